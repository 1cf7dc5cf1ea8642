# ruff: noqa: F811  (the fixtures of tests/test_browser.py, imported, are parameters here)
"""The console at a busy desk, in a real browser (Chromium via Playwright, as
tests/test_browser.py, on the same live server): find an attendee and check them in by
hand; cancel one and see the waitlist move; the dashboard after a surge shows the counts
the API gives; revoke a door device and see its scanner refused; the pages at 320 px."""

from __future__ import annotations

import asyncio
import secrets
from typing import Any

import httpx
import pytest
from playwright.async_api import Page, expect

from events.db import Database
from tests.conftest import Partner, create_event
from tests.test_browser import (  # noqa: F401  (fixtures)
    api,
    browser,
    chromium,
    live,
    live_database,
    live_db,
    owner,
    page,
    playwright,
    sign_in,
)
from tests.test_checkin import door_for, register
from tests.test_web_console import console_user

pytestmark = [pytest.mark.usefixtures("chromium"), pytest.mark.slow]


async def fits_320(page: Page) -> None:
    """Nothing wider than a 320 px phone: no sideways scrolling."""
    await page.set_viewport_size({"width": 320, "height": 640})
    width = await page.evaluate("document.documentElement.scrollWidth")
    assert width <= 320, f"{page.url} is {width}px wide at 320"
    await page.set_viewport_size({"width": 1366, "height": 900})


async def test_find_an_attendee_and_check_them_in_by_hand(
    page: Page, api: httpx.AsyncClient, live_db: Database, owner: Partner
) -> None:
    event = await create_event(api, owner, title=f"Seminar {secrets.token_hex(3)}")
    for name in ("Chan Tai Man", "Wong Siu Ming", "Lee Ka Yan"):
        await register(api, event, name)
    await sign_in(page, await console_user(live_db, owner))
    await page.goto(f"/console/events/{event['id']}")
    await page.get_by_role("link", name="Attendees").first.click()
    await page.get_by_label("Search by name or email").fill("siu ming")
    await page.keyboard.press("Enter")
    rows = page.locator("table.attendees tbody tr")
    await expect(rows).to_have_count(1)
    await page.get_by_role("button", name="Check in Wong Siu Ming").click()
    message = page.locator("#flash")
    await expect(message).to_have_text("Done for 1 attendee.")
    await expect(message).to_be_focused()  # a screen reader reads it first
    await expect(rows).to_have_count(1)  # the search is kept
    await expect(rows.first.locator("td.checked")).to_contain_text("by hand")
    stats = (await api.get(f"/api/v1/events/{event['id']}/stats", headers=owner.auth)).json()
    assert stats["checked_in"] == 1
    await fits_320(page)


async def test_cancel_one_and_see_the_waitlist_move(
    page: Page, api: httpx.AsyncClient, live_db: Database, owner: Partner
) -> None:
    event = await create_event(api, owner, capacity=1, waitlist=True)
    first = await register(api, event, "Ho Wing Sze")
    second = await register(api, event, "Ng Chi Keung")
    assert second["status"] == "waitlisted"
    await sign_in(page, await console_user(live_db, owner))
    await page.goto(f"/console/events/{event['id']}/attendees")
    waiting = page.locator(f"tr[data-id='{second['id']}'] td.status")
    await expect(waiting).to_have_text("Waitlisted (1)")
    await page.get_by_role("button", name="Cancel the registration of Ho Wing Sze").click()
    await expect(page.locator("#flash")).to_have_text("Done for 1 attendee.")
    await expect(page.locator(f"tr[data-id='{first['id']}'] td.status")).to_have_text("Cancelled")
    await expect(waiting).to_have_text("Confirmed")
    held = await api.get(f"/api/v1/registrations/{second['id']}", headers=owner.auth)
    assert held.json()["status"] == "confirmed" and held.json()["ticket"]


async def test_the_dashboard_after_a_surge_shows_the_counts_the_api_gives(
    page: Page, api: httpx.AsyncClient, live_db: Database, owner: Partner
) -> None:
    event = await create_event(api, owner, capacity=20, waitlist=True)

    async def one(i: int) -> httpx.Response:
        return await api.post(
            f"/api/v1/events/{event['id']}/registrations",
            json={"name": f"Person {i}", "email": f"p{i}-{secrets.token_hex(3)}@example.org"},
        )

    answers = await asyncio.gather(*(one(i) for i in range(30)))
    assert all(a.status_code == 201 for a in answers)
    confirmed = [a.json() for a in answers if a.json()["status"] == "confirmed"]
    door = await door_for(api, owner, event)
    for r in confirmed[:7]:
        scanned = await api.post(
            f"/api/v1/events/{event['id']}/checkins",
            json={"code": r["ticket"]["code"]},
            headers=door.auth,
        )
        assert scanned.status_code == 200
    numbers: dict[str, Any] = (
        await api.get(f"/api/v1/events/{event['id']}/analytics", headers=owner.auth)
    ).json()
    assert numbers["confirmed"] == 20 and numbers["waitlisted"] == 10
    await sign_in(page, await console_user(live_db, owner))
    await page.goto(f"/console/events/{event['id']}/dashboard")
    for name in ("capacity", "confirmed", "waitlisted", "cancelled", "checked_in"):
        await expect(page.locator(f"[data-n={name}]")).to_have_text(str(numbers[name]))
    await expect(page.locator("[data-n=show_up_rate]")).to_have_text("35%")
    arrivals = page.get_by_role("table", name="Check-ins per five minutes, by door")
    await expect(arrivals.locator("thead")).to_contain_text("Hall 3 north door")
    totals = await arrivals.locator("tbody tr td:last-child").all_inner_texts()
    assert sum(int(t) for t in totals) == numbers["arrivals"]["total"] == 7
    await expect(page.get_by_role("img", name="Registrations over time, by status")).to_be_visible()
    await fits_320(page)


async def test_revoke_a_door_device_and_see_its_scanner_refused(
    page: Page, api: httpx.AsyncClient, live_db: Database, owner: Partner
) -> None:
    event = await create_event(api, owner)
    door = await door_for(api, owner, event)
    scanner = await page.context.new_page()
    await scanner.goto(f"/scan?token={door.token}")
    await expect(scanner.locator("#code")).to_be_visible()
    await sign_in(page, await console_user(live_db, owner))
    await page.goto(f"/console/events/{event['id']}")
    await fits_320(page)
    await page.get_by_role("button", name="Revoke the door device Hall 3 north door").click()
    await expect(page.locator("#flash")).to_contain_text("Door device revoked")
    await scanner.reload()
    await expect(scanner.get_by_role("heading", level=1)).to_have_text(
        "This door link is not valid"
    )
    refused = await api.get(f"/api/v1/events/{event['id']}/stats", headers=door.auth)
    assert refused.status_code == 401
