"""The door scanner in Chromium: it reloads without a network and scans, checks in by name
offline, uploads its queue once; a session door refuses others; re-entry goes out and in."""

from __future__ import annotations

import httpx
import pytest
from playwright.async_api import Browser, Page, expect

from tests import test_browser as shared
from tests.conftest import Partner, create_event
from tests.live_server import Server
from tests.test_browser import AMBER, GREEN, expect_result, open_scanner, scan_by_keyboard
from tests.test_checkin import Door, door_for, register

pytestmark = pytest.mark.usefixtures("chromium")

# the live server, its database and the browser: the fixtures of the other browser tests
chromium, playwright, browser = shared.chromium, shared.playwright, shared.browser
live_database, live_db, live = shared.live_database, shared.live_db, shared.live
api, owner = shared.api, shared.owner


async def offline_ready(page: Page) -> None:
    assert await page.evaluate("() => window.scanner.offlineReady()")
    await page.wait_for_function("() => navigator.serviceWorker.controller !== null")


async def test_the_scanner_reloads_offline_scans_and_uploads_once(
    browser: Browser, live: Server, api: httpx.AsyncClient, owner: Partner
) -> None:
    event = await create_event(api, owner, reentry=True)
    door = await door_for(api, owner, event)
    names = ("Chan Tai Man", "Wong Siu Ming", "Gone Away")
    regs = [await register(api, event, n) for n in names]
    await api.post(f"/api/v1/registrations/{regs[2]['id']}/cancel", headers=owner.auth)
    context = await browser.new_context(base_url=live.base, locale="en-GB")
    try:
        page = await open_scanner(context, door.token, event["id"])
        await expect(page.locator("#door-label")).to_have_text("Hall 3 north door")
        await expect(page.locator("#n-confirmed")).to_have_text("2")
        await offline_ready(page)
        await context.set_offline(True)
        await page.reload()  # a phone that killed the tab, with no network
        await expect(page.locator("h1")).to_have_text(event["title"])
        await expect(page.locator("#net")).to_contain_text("Offline")
        await page.wait_for_function("() => window.scanner.ready()")
        await scan_by_keyboard(page, regs[0]["ticket"]["code"])
        await expect_result(page, "accepted", names[0], GREEN)
        await expect(page.locator("#pending")).to_have_text("1")
        await expect(page.locator("#n-checked")).to_have_text("1")  # queued scans count
        await expect(page.locator("#n-inside")).to_have_text("1")
        await page.keyboard.press("Escape")
        # a cancelled ticket the kit knows: its name and state, not "(new registration)"
        await scan_by_keyboard(page, regs[2]["ticket"]["code"])
        await expect(page.locator("#result")).to_have_attribute("data-result", "cancelled")
        await expect(page.locator("#result-name")).to_have_text(names[2])
        await page.keyboard.press("Escape")
        # found by name and checked in, offline
        await page.locator("#search").fill("wong")
        await page.locator("#search").press("Enter")
        await page.locator("#search-results").get_by_role("button", name="Check in").click()
        await expect_result(page, "accepted", names[1], GREEN)
        await expect(page.locator("#pending")).to_have_text("2")
        # out (the event allows re-entry), still offline
        await page.get_by_label("Out").check()
        await scan_by_keyboard(page, regs[0]["ticket"]["code"])
        await expect(page.locator("#result")).to_have_attribute("data-result", "accepted")
        await expect(page.locator("#result-title")).to_have_text("Out")
        await expect(page.locator("#n-inside")).to_have_text("1")
        await page.reload()  # the queue survives
        await expect(page.locator("#pending")).to_have_text("3")
        await context.set_offline(False)
        await expect(page.locator("#pending")).to_have_text("0", timeout=15_000)
        stats = (await api.get(f"/api/v1/events/{event['id']}/stats", headers=owner.auth)).json()
        assert (stats["checked_in"], stats["inside"]) == (2, 1)
        history = await api.get(f"/api/v1/events/{event['id']}/checkins", headers=owner.auth)
        assert len(history.json()["items"]) == 2  # uploaded once
        await expect(page.locator("#n-inside")).to_have_text("1")
        # and in again, online
        await page.get_by_label("In", exact=True).check()
        await scan_by_keyboard(page, regs[0]["ticket"]["code"])
        await expect_result(page, "accepted", names[0], GREEN)
        await expect(page.locator("#n-inside")).to_have_text("2")
        await page.keyboard.press("Escape")
        # someone at the door without a registration
        await page.get_by_label("Name", exact=True).fill("黃小明 Wong Siu Ming")
        await page.get_by_role("button", name="Register and check in").click()
        await expect_result(page, "accepted", "黃小明 Wong Siu Ming", GREEN)
        await expect(page.locator("#n-checked")).to_have_text("3")
        await expect(page.locator("#n-inside")).to_have_text("3")
    finally:
        await context.close()


async def test_a_session_door_refuses_people_of_other_sessions(
    browser: Browser, live: Server, api: httpx.AsyncClient, owner: Partner
) -> None:
    event = await create_event(api, owner)
    made = await api.post(
        f"/api/v1/events/{event['id']}/sessions",
        json={
            "title": "Fintech panel",
            "starts_at": event["starts_at"],
            "ends_at": event["ends_at"],
        },
        headers=owner.auth,
    )
    session_id = made.json()["id"]
    token = await api.post(
        f"/api/v1/events/{event['id']}/door-tokens",
        json={"label": "Room 201", "session_id": session_id},
        headers=owner.auth,
    )
    door = Door(event, token.json()["token"])
    holder = await register(api, event, "Panel Guest", sessions=[session_id])
    other = await register(api, event, "Hall Only")
    context = await browser.new_context(base_url=live.base, locale="en-GB")
    try:
        page = await open_scanner(context, door.token, event["id"])
        await expect(page.locator("#door-label")).to_have_text("Room 201")
        await expect(page.locator("#door-session")).to_have_text("Fintech panel")
        await scan_by_keyboard(page, other["ticket"]["code"])
        await expect(page.locator("#result")).to_have_attribute("data-result", "wrong_session")
        await expect(page.locator("#result-name")).to_have_text("Hall Only")
        await expect(page.locator("#result-title")).to_have_text("Not registered for this session")
        await page.keyboard.press("Escape")
        await scan_by_keyboard(page, holder["ticket"]["code"])
        await expect_result(page, "accepted", "Panel Guest", GREEN)
        await page.keyboard.press("Escape")
        await context.set_offline(True)  # offline, the kit decides the same way
        await expect(page.locator("#net")).to_contain_text("Offline")
        await scan_by_keyboard(page, other["ticket"]["code"])
        await expect(page.locator("#result")).to_have_attribute("data-result", "wrong_session")
        await page.keyboard.press("Escape")
        await scan_by_keyboard(page, holder["ticket"]["code"])
        await expect_result(page, "already_checked_in", "Panel Guest", AMBER)
        await expect(page.locator("#result-detail")).to_contain_text("Room 201")
    finally:
        await context.close()


async def test_the_door_shows_online_attendees_as_online(
    browser: Browser, live: Server, api: httpx.AsyncClient, owner: Partner
) -> None:
    """A hybrid event: someone who joins online is found by name, labelled online, with
    nothing to check in, online and offline; their old ticket (from before switching) too."""
    event = await create_event(
        api, owner, format="hybrid", online={"url": "https://meet.example.com/x"}
    )
    door = await door_for(api, owner, event)
    remote = await register(api, event, "Lam Online", attendance="online")
    switched = await register(api, event, "Ho Switched")
    url = f"/api/v1/registrations/{switched['id']}?token={switched['access_token']}"
    assert (await api.patch(url, json={"attendance": "online"})).status_code == 200
    context = await browser.new_context(base_url=live.base, locale="en-GB")
    try:
        page = await open_scanner(context, door.token, event["id"])
        for offline in (False, True):
            if offline:
                await offline_ready(page)
                await context.set_offline(True)
            await page.locator("#search").fill("lam online")
            await page.locator("#search").press("Enter")
            card = page.locator("#search-results li").filter(has_text=remote["name"])
            await expect(card.locator(".online-label")).to_have_text(
                "Attends online: no seat in the room, no ticket"
            )
            await expect(card.get_by_role("button", name="Check in")).to_have_count(0)
        await page.locator("#code").focus()  # a hand-held scanner types into the code field
        await scan_by_keyboard(page, switched["ticket"]["code"])  # offline, from the kit
        await expect(page.locator("#result")).to_have_attribute("data-result", "online_attendee")
        await expect(page.locator("#result-name")).to_have_text("Ho Switched")
        await expect(page.locator("#result-title")).to_have_text("Registered to attend online")
    finally:
        await context.close()
