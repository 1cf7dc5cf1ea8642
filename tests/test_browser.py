"""The pages in a real browser: Debian's headless Chromium driven by Playwright (its bundled
driver, no browser download) against a real `python -m events serve` on a database of its
own. An attendee registers and sees the ticket; a partner signs in, creates and publishes
an event; a door admits tickets typed by a hand-held scanner and read by a (fake) camera,
refuses a duplicate, and queues a scan while offline, then uploads it.

Everything asserted is an outcome: what the page shows and what the server then holds.
"""

from __future__ import annotations

import io
import os
import re
import secrets
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import png
import pytest
import zxingcpp
from playwright.async_api import Browser, BrowserContext, Page, Playwright, async_playwright, expect

from events.db import Database, migrate
from tests.conftest import Partner, make_partner
from tests.live_server import (
    CHROMIUM,
    CHROMIUM_ARGS,
    Server,
    create_database,
    drop_database,
    running,
    server_env,
)
from tests.test_checkin import setup as door_with_registrations
from tests.test_web import summit
from tests.test_web_console import PASSWORD, console_user

pytestmark = [pytest.mark.usefixtures("chromium"), pytest.mark.slow]  # first: no server for nothing
GREEN, AMBER = "rgb(23, 102, 58)", "rgb(138, 83, 0)"  # app.css --good and --warn


# --- the server and the browser ------------------------------------------------------------


@pytest.fixture(scope="module")
async def live_database(database_url: str) -> AsyncIterator[str]:
    """A database of this module's own (on the test server), so that the home page shows
    only what these tests made."""
    url, name = await create_database(database_url, "events_browser")
    yield url
    await drop_database(database_url, name)


@pytest.fixture(scope="module")
async def live_db(live_database: str) -> AsyncIterator[Database]:
    db = Database(live_database, pool_size=2)
    await db.connect()
    await migrate(db)
    yield db
    await db.disconnect()


@pytest.fixture(scope="module")
def live(
    live_db: Database, live_database: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    server = Server(server_env(live_database), tmp_path_factory.mktemp("browser"), "--workers", "1")
    with running(server):
        yield server


@pytest.fixture
async def api(live: Server) -> AsyncIterator[httpx.AsyncClient]:
    """A client of the live server (real HTTP), for the test's own data and for checks."""
    async with httpx.AsyncClient(base_url=live.base, timeout=10) as client:
        yield client


@pytest.fixture
async def owner(live_db: Database) -> Partner:
    return await make_partner(live_db, "Hong Kong Talent Engage")


@pytest.fixture(scope="module")
def chromium() -> Path:
    if not CHROMIUM.exists():
        reason = f"{CHROMIUM} is missing (scripts/test installs Debian's chromium as root)"
        if os.environ.get("CI"):
            pytest.fail(f"the browser tests must run on CI: {reason}")
        pytest.skip(reason)
    return CHROMIUM


@pytest.fixture(scope="module")
async def playwright(chromium: Path) -> AsyncIterator[Playwright]:
    async with async_playwright() as driver:
        yield driver


async def launch(playwright: Playwright, *extra: str) -> Browser:
    return await playwright.chromium.launch(
        executable_path=str(CHROMIUM), headless=True, args=[*CHROMIUM_ARGS, *extra]
    )


@pytest.fixture(scope="module")
async def browser(playwright: Playwright) -> AsyncIterator[Browser]:
    browser = await launch(playwright)
    yield browser
    await browser.close()


@pytest.fixture
async def page(browser: Browser, live: Server) -> AsyncIterator[Page]:
    context = await browser.new_context(base_url=live.base, locale="en-GB")
    yield await context.new_page()
    await context.close()


# --- QR codes as pictures ------------------------------------------------------------------


def read_qr(screenshot: bytes) -> list[str]:
    """The QR codes in a PNG screenshot (RGBA, read through its red channel)."""
    width, height, rows, _ = png.Reader(file=io.BytesIO(screenshot)).asRGBA8()
    grey = b"".join(bytes(row)[::4] for row in rows)
    return [
        found.text for found in zxingcpp.read_barcodes(memoryview(grey).cast("B", (height, width)))
    ]


def y4m_of(qr_png: bytes, width: int = 640, height: int = 480) -> bytes:
    """One frame of Y4M video (4:2:0) showing the black-on-white QR PNG large in the middle
    of a white frame: what Chromium's fake camera plays (`--use-file-for-fake-video-capture`)."""
    side, _, rows, info = png.Reader(file=io.BytesIO(qr_png)).asDirect()
    assert info["greyscale"] and info["planes"] == 1, info
    top_value = (1 << info["bitdepth"]) - 1  # 1-bit or 8-bit: black is 0, white the top value
    qr = [bytes(v * 255 // top_value for v in row) for row in rows]  # square, quiet zone in
    size = min(width, height) * 9 // 10
    top, left = (height - size) // 2, (width - size) // 2
    luma = bytearray(b"\xff" * (width * height))
    for y in range(size):
        source = qr[y * side // size]
        start = (top + y) * width + left
        luma[start : start + size] = bytes(source[x * side // size] for x in range(size))
    chroma = b"\x80" * ((width // 2) * (height // 2))
    header = f"YUV4MPEG2 W{width} H{height} F10:1 Ip A1:1 C420jpeg\n".encode()
    return header + b"FRAME\n" + bytes(luma) + chroma + chroma


# --- an attendee ---------------------------------------------------------------------------


async def test_an_attendee_registers_and_sees_the_qr_ticket(
    page: Page, api: httpx.AsyncClient, owner: Partner
) -> None:
    title = f"Fintech Talent Summit {secrets.token_hex(3)}"
    event = await summit(api, owner, title=title)
    await page.goto("/")
    await page.get_by_role("link", name=title).click()
    await expect(page).to_have_url(f"/events/{event['slug']}")
    await expect(page.get_by_role("heading", level=1)).to_have_text(title)

    await page.get_by_label("Name", exact=True).fill("Chan Tai Man")
    await page.get_by_label("Email", exact=True).fill("tai.man@example.org")
    await page.get_by_label("Organisation").fill("HKUST")
    await page.get_by_label("Sector").select_option("Fintech")
    await page.get_by_label("New to Hong Kong").check()
    await page.get_by_label("Fintech talent").check()
    await page.get_by_role("button", name="Register").click()

    await expect(page).to_have_url(re.compile(r"/tickets/[0-9a-f-]+\?token="))
    await expect(page.get_by_role("status")).to_have_text(
        "You are registered. Show this code at the entrance."
    )
    await expect(page.locator(".who")).to_have_text("Chan Tai Man · tai.man@example.org")
    qr = page.locator("figure.qr svg")
    await expect(qr).to_be_visible()
    code = (await page.locator("figure.qr figcaption").inner_text()).strip()
    assert read_qr(await qr.screenshot()) == [code], "the QR on the page reads as the ticket code"

    registration_id = page.url.split("/tickets/", 1)[1].split("?", 1)[0]
    held = (await api.get(f"/api/v1/registrations/{registration_id}", headers=owner.auth)).json()
    assert held["status"] == "confirmed" and held["ticket"]["code"] == code
    assert held["answers"] == {"organisation": "HKUST", "sector": "Fintech", "newcomer": True}
    assert held["sessions"] == [event["sessions"][0]["id"]]


# --- a partner -----------------------------------------------------------------------------


async def sign_in(page: Page, email: str) -> None:
    await page.goto("/console")
    await page.get_by_label("Email").fill(email)
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Sign in").click()
    await expect(page.get_by_role("button", name="Sign out")).to_be_visible()


async def test_a_partner_signs_in_creates_and_publishes_an_event(
    page: Page, live_db: Database, owner: Partner
) -> None:
    title = f"Advanced Manufacturing Seminar {secrets.token_hex(3)}"
    await sign_in(page, await console_user(live_db, owner))
    await expect(page.get_by_role("heading", level=1)).to_have_text("Your events")

    await page.get_by_role("link", name="New event").click()
    await page.get_by_label("Title").fill(title)
    await page.get_by_label("Description").fill("Robotics and new energy.")
    await page.get_by_label("Starts", exact=True).fill("2027-07-22T14:30")
    await page.get_by_label("Ends", exact=True).fill("2027-07-22T17:30")
    await expect(page.get_by_label("Time zone")).to_have_value("Asia/Hong_Kong")
    await page.get_by_label("Seats").fill("80")
    await page.get_by_label("Venue").fill("Central Government Offices")
    await page.get_by_role("button", name="Create draft").click()

    await expect(page.get_by_role("heading", level=1)).to_have_text(title)
    await expect(page.get_by_text("Not visible to the public until published.")).to_be_visible()
    await page.get_by_role("button", name="Publish").click()
    await expect(page.get_by_role("button", name="Publish")).to_have_count(0)
    await expect(page.locator("main strong").first).to_have_text("Published")

    await page.goto("/")
    await page.get_by_role("link", name=title).click()
    await expect(page.get_by_role("heading", level=1)).to_have_text(title)
    await expect(page.locator(".seats")).to_have_text("80 seats left")
    # the times typed in the console are the event's local times
    await expect(page.locator("article time").first).to_have_text(
        "Thursday, 22 July 2027 14:30–17:30"
    )


# --- the door ------------------------------------------------------------------------------


async def scan_by_keyboard(page: Page, code: str) -> None:
    """What a hand-held scanner does: types the code into the focused field, then Enter."""
    await expect(page.locator("#code")).to_be_focused()
    await page.keyboard.type(code)
    await page.keyboard.press("Enter")


async def expect_result(page: Page, result: str, name: str, colour: str) -> None:
    box = page.locator("#result")
    await expect(box).to_be_visible()
    await expect(box).to_have_attribute("data-result", result)
    await expect(page.locator("#result-name")).to_have_text(name)
    await expect(box).to_have_css("background-color", colour)


async def open_scanner(context: BrowserContext, token: str, event_id: str) -> Page:
    page = await context.new_page()
    await page.goto(f"/scan?token={token}")
    # the check-in kit (key, names) is what lets the device check tickets offline
    # (a function, not a string: the page's CSP forbids eval)
    kit = f"scan-kit:{event_id}:"
    await page.wait_for_function(
        "(key) => Object.keys(localStorage).some((k) => k.startsWith(key))", arg=kit
    )
    return page


async def test_the_door_scanner_admits_refuses_and_works_offline(
    playwright: Playwright,
    live: Server,
    live_db: Database,
    api: httpx.AsyncClient,
    owner: Partner,
    tmp_path: Path,
) -> None:
    names = ("Chan Tai Man", "Wong Siu Ming", "Lee Ka Yan")
    door, regs = await door_with_registrations(api, owner, names)
    event_id = door.event["id"]
    codes = [r["ticket"]["code"] for r in regs]
    camera = tmp_path / "ticket.y4m"
    camera.write_bytes(y4m_of((await api.get(regs[1]["ticket"]["qr_png"])).content))
    browser = await launch(
        playwright,
        "--use-fake-ui-for-media-stream",
        "--use-fake-device-for-media-stream",
        f"--use-file-for-fake-video-capture={camera}",
    )
    try:
        # the hand-held scanner's device
        device = await browser.new_context(base_url=live.base, locale="en-GB")
        page = await open_scanner(device, door.token, event_id)
        await expect(page.locator("#n-confirmed")).to_have_text("3")
        await scan_by_keyboard(page, codes[0])
        await expect_result(page, "accepted", names[0], GREEN)
        await expect(page.locator("#result-title")).to_have_text("Admitted")
        # at once, while "Admitted" still shows (a queue at the door): the scan is not lost
        await scan_by_keyboard(page, codes[0])
        await expect_result(page, "already_checked_in", names[0], AMBER)
        await expect(page.locator("#result-title")).to_have_text("Already checked in")
        await expect(page.locator("#result-detail")).to_contain_text("Checked in at")

        # another door's phone, reading the second ticket with its camera
        phone = await browser.new_context(base_url=live.base, locale="en-GB")
        camera_page = await open_scanner(phone, door.token, event_id)
        await camera_page.get_by_role("button", name="Scan with the camera").click()
        await expect(camera_page.locator("#video")).to_be_visible()
        await expect(camera_page.get_by_role("button", name="Scan with the camera")).to_be_hidden()
        await expect(camera_page.locator("#result")).to_have_attribute(
            "data-result", "accepted", timeout=15_000
        )
        await expect(camera_page.locator("#result-name")).to_have_text(names[1])
        # the ticket stays in front of the camera: it counted once, and is not read again
        # as "already checked in" (the camera reads it several times a second)
        await camera_page.wait_for_timeout(6000)  # real frames in a real browser
        await expect(camera_page.locator("#result")).to_be_hidden()
        assert await camera_page.locator("#result").get_attribute("data-result") == "accepted"
        await phone.close()

        # the network goes: the ticket is checked on the device and queued
        await device.set_offline(True)
        await expect(page.locator("#net")).to_contain_text("Offline")
        await scan_by_keyboard(page, codes[2])
        await expect_result(page, "accepted", names[2], GREEN)
        await expect(page.locator("#result-detail")).to_have_text(
            "Checked on this device; will be uploaded"
        )
        await expect(page.locator("#pending")).to_have_text("1")
        stats = (await api.get(f"/api/v1/events/{event_id}/stats", headers=owner.auth)).json()
        assert stats["checked_in"] == 2, "the offline scan waits on the device"

        # it comes back: the queue is uploaded
        await device.set_offline(False)
        await expect(page.locator("#pending")).to_have_text("0")
        await expect(page.locator("#net")).to_have_text("Online")
        await expect(page.locator("#n-checked")).to_have_text("3")
        stats = (await api.get(f"/api/v1/events/{event_id}/stats", headers=owner.auth)).json()
        assert stats["checked_in"] == 3 and stats["confirmed"] == 3
        attendees = await api.get(f"/api/v1/events/{event_id}/attendees", headers=owner.auth)
        checked = {a["name"] for a in attendees.json()["items"] if a["checked_in_at"]}
        assert checked == set(names)

        # and the partner's console counts them
        office = await (await browser.new_context(base_url=live.base, locale="en-GB")).new_page()
        await sign_in(office, await console_user(live_db, owner))
        await office.goto(f"/console/events/{event_id}")
        await expect(office.locator("[data-count=confirmed]")).to_have_text("3")
        await expect(office.locator("[data-count=checked_in]")).to_have_text("3")
    finally:
        await browser.close()
