# ruff: noqa: F811  (the fixtures of tests/test_browser.py, imported, are parameters here)
"""Accessibility in a real browser: axe-core (the version bundled by axe-playwright-python)
finds no violation on the console's main pages (events, an event with its door devices,
attendees, dashboard, messages) and the attendee's (event page, ticket) and the door's
(scanner), in the states a person meets (a form with errors, a count before sending, a
door device just paired); and none of them scrolls sideways on a 320 px phone.

Every rule axe runs by default is kept (WCAG 2 A and AA, best practices): none is
excluded. Each page is checked at desktop width and at 320 px, where the layout differs
(tables become cards)."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
from axe_playwright_python.async_playwright import Axe
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
from tests.test_web import QUESTIONS
from tests.test_web_console import console_user

pytestmark = [pytest.mark.usefixtures("chromium"), pytest.mark.slow]

AXE = Axe()
DESKTOP = {"width": 1366, "height": 900}
PHONE = {"width": 320, "height": 640}
HOUR = timedelta(hours=1)
#: the innermost elements, and the runs of text, that reach past the viewport's right edge
#: (what makes the page scroll sideways)
WIDE = """(edge) => {
  const right = (node) => {
    if (node.nodeType === Node.ELEMENT_NODE) return node.getBoundingClientRect().right;
    const range = document.createRange();
    range.selectNodeContents(node);
    return range.getBoundingClientRect().right;
  };
  const out = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_ELEMENT | NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node && out.length < 5; node = walker.nextNode()) {
    if (right(node) <= edge) continue;
    const children = [...node.childNodes].filter((c) => c.nodeType <= Node.TEXT_NODE);
    if (children.some((c) => right(c) > edge)) continue;  // an inner one says more
    const el = node.nodeType === Node.TEXT_NODE ? node.parentElement : node;
    out.push(el.tagName.toLowerCase() + (el.id ? "#" + el.id : "") + " "
      + JSON.stringify((node.textContent || "").trim().slice(0, 40)) + " "
      + Math.round(right(node)) + "px");
  }
  return out;
}"""


async def findings(page: Page, name: str) -> list[str]:
    """What axe finds on the page as it stands, at desktop width and at 320 px, and any
    sideways scrolling at 320 px; one line each."""
    out: list[str] = []
    for size in (DESKTOP, PHONE):
        await page.set_viewport_size(size)
        results = await AXE.run(page)
        for violation in results.response["violations"]:
            targets = [" ".join(node["target"]) for node in violation["nodes"]][:5]
            out.append(
                f"{name} at {size['width']}px: {violation['id']} ({violation['impact']}):"
                f" {violation['help']} → {targets}"
            )
    width = await page.evaluate("document.documentElement.scrollWidth")
    if width > PHONE["width"]:
        wide = await page.evaluate(WIDE, PHONE["width"])
        out.append(f"{name}: {width}px wide at 320px (scrolls sideways): {wide}")
    await page.set_viewport_size(DESKTOP)
    return out


async def an_event_in_full(api: httpx.AsyncClient, owner: Partner) -> dict[str, Any]:
    """A published event with two sessions, questions, confirmed, waitlisted and cancelled
    registrations, check-ins at a named door and a message sent: every part of every page."""
    event = await create_event(
        api, owner, title=f"Fintech Summit {secrets.token_hex(3)}", capacity=3, questions=QUESTIONS
    )
    sessions = []
    for title, hours in (("Keynote", 1), ("Workshop", 3)):
        start = datetime.fromisoformat(event["starts_at"]) + timedelta(hours=hours)
        times = {"starts_at": start.isoformat(), "ends_at": (start + HOUR).isoformat()}
        made = await api.post(
            f"/api/v1/events/{event['id']}/sessions",
            json={"title": title, "room": "S421", **times},
            headers=owner.auth,
        )
        assert made.status_code == 201, made.text
        sessions.append(made.json())
    answers = {"organisation": "HKUST", "sector": "Fintech", "newcomer": True}
    people = [
        await register(api, event, name, sessions=[sessions[0]["id"]], answers=answers)
        for name in ("陳大文 Chan Tai Man", "Wong Siu Ming", "Lee Ka Yan", "Ho Wing Sze", "Ng Chi")
    ]  # three seats: after one cancels, one is still waitlisted
    await api.post(f"/api/v1/registrations/{people[1]['id']}/cancel", headers=owner.auth)
    door = await door_for(api, owner, event)
    scanned = await api.post(
        f"/api/v1/events/{event['id']}/checkins",
        json={"code": people[0]["ticket"]["code"]},
        headers=door.auth,
    )
    assert scanned.status_code == 200
    told = await api.post(
        f"/api/v1/events/{event['id']}/messages",
        json={"subject": "Room change", "body": "The keynote moves to Hall 2."},
        headers=owner.auth,
    )
    assert told.status_code == 202
    return {**event, "people": people, "door": door, "sessions": sessions}


async def test_the_main_pages_are_axe_clean_and_fit_a_phone(
    page: Page, api: httpx.AsyncClient, live_db: Database, owner: Partner
) -> None:
    event = await an_event_in_full(api, owner)
    console = f"/console/events/{event['id']}"
    problems: list[str] = []

    # the attendee's pages and the door's, without signing in
    await page.goto(f"/events/{event['slug']}")
    problems += await findings(page, "event page")
    await page.get_by_role("button", name="Join the waitlist").click()  # empty: errors
    await expect(page.locator("[data-error-summary]")).to_be_focused()
    problems += await findings(page, "event page with errors")
    await page.goto(event["people"][0]["ticket_url"])
    problems += await findings(page, "ticket page")
    await page.goto(f"/scan?token={event['door'].token}")
    await expect(page.locator("#code")).to_be_visible()
    problems += await findings(page, "scanner")

    await sign_in(page, await console_user(live_db, owner))
    problems += await findings(page, "events list")
    await page.goto(console)
    problems += await findings(page, "event edit")
    await page.get_by_label("Door name (e.g. Hall 3 north door)").fill("Room S421")
    await page.get_by_label("Checks people in to").select_option(label="Only the session Keynote")
    await page.get_by_role("button", name="Pair a new door device").click()
    await expect(page.locator("#pairing-url")).to_be_visible()
    problems += await findings(page, "event with a door device just paired")
    await page.goto(f"{console}/attendees")
    problems += await findings(page, "attendees")
    await page.get_by_role("button", name="Send the ticket again to Lee Ka Yan").click()
    await expect(page.locator("#flash")).to_have_text("Ticket sent again to 1 attendee.")
    problems += await findings(page, "attendees after an action")
    await page.goto(f"{console}/dashboard")
    problems += await findings(page, "dashboard")
    await page.goto(f"{console}/messages")
    problems += await findings(page, "messages")
    await page.get_by_label("Subject").fill("Doors open at 8:30")
    await page.get_by_label("Message", exact=True).fill("Please bring your QR ticket.")
    await page.get_by_label("Confirmed").uncheck()
    await page.get_by_label("Waitlisted").uncheck()  # no one: an error the server finds
    await page.get_by_role("button", name="Count who will receive it").click()
    await expect(page.locator("[data-error-summary]")).to_be_focused()
    await expect(page.locator("#m-status-error")).to_have_text("Tick at least one status.")
    problems += await findings(page, "messages with errors")
    await page.get_by_label("Confirmed").check()
    await page.get_by_role("button", name="Count who will receive it").click()
    await expect(page.locator(".counted")).to_contain_text("3 attendees will be told.")
    await expect(page.locator(".counted")).to_be_focused()
    problems += await findings(page, "messages with a count")
    for lang in ("zh-Hant", "zh-Hans"):  # other words, other line breaks
        await page.goto(f"{console}?lang={lang}")
        problems += await findings(page, f"event edit ({lang})")
        await page.goto(f"/events/{event['slug']}?lang={lang}")
        problems += await findings(page, f"event page ({lang})")
    assert problems == [], "\n".join(problems)


async def test_the_check_finds_what_it_should(page: Page) -> None:
    """The control: a page with a picture without words and a line too long for a phone."""
    await page.goto("/static/app.css")  # any page of the server: the same origin
    await page.set_content(
        '<html lang="en"><head><title>t</title></head><body><main><h1>t</h1>'
        '<img src="/static/scan-icon.svg"><p style="width: 400px">wide</p></main></body></html>'
    )
    found = await findings(page, "control")
    assert any("image-alt" in line for line in found), found
    assert any("scrolls sideways" in line and '"wide"' in line for line in found), found
