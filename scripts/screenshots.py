"""scripts/screenshots: PNGs of the main pages at phone and desktop width, for anyone to look at.

It starts the service (`python -m events serve`, as tests/live_server.py does for the browser
tests) on a FRESH database, loads the demo (`python -m events demo`), registers one attendee
and pairs one door device through the API, then photographs with headless Chromium, in
English, each page at 390 px (phone) and 1280 px (desktop):

    home             /                         the upcoming events
    event            /events/<summit>          the summit: programme, registration not yet open
    event-register   /events/<seminar>         a seminar with its registration form
    ticket           the attendee's ticket     QR code, calendar links
    scan             /scan?token=…             the door scanner
    scan-admitted    the scanner after a scan  the green "Admitted" screen
    console-sign-in  /console                  the partner console's sign-in
    console          /console                  the partner's events, signed in
    console-event    /console/events/<id>      one event: counts, forms, door devices
    console-attendees  /console/events/<id>/attendees  the attendee desk, after a ticket resent
    console-messages /console/events/<id>/messages  a message counted, ready to send
    event-zh-Hant    /events/<seminar>         the seminar in Traditional Chinese

into ./screenshots/NAME-phone.png and NAME-desktop.png (full pages).

    scripts/screenshots [--out screenshots]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from playwright.sync_api import Browser, Page, expect, sync_playwright

from tests.live_server import CHROMIUM, CHROMIUM_ARGS, ROOT, Server, fresh_database, server_env

WIDTHS = {"phone": (390, 844), "desktop": (1280, 800)}


@dataclass
class Demo:
    """What the photographs need from the demo and the few things made for them."""

    summit: str  # event slugs
    seminar: str
    seminar_id: str
    tickets: dict[str, tuple[str, str]]  # width → (ticket URL, code): one attendee each
    scan_url: str
    email: str  # a console user of the owner
    password: str


def log(message: str) -> None:
    print(f"[screenshots] {message}", file=sys.stderr, flush=True)


def load_demo(server: Server) -> Demo:
    loaded = subprocess.run(
        [sys.executable, "-m", "events", "demo"],
        cwd=ROOT,
        env=server.env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    demo: dict[str, Any] = json.loads(loaded.stdout.strip().splitlines()[-1])
    hkte = next(p for p in demo["partners"] if p["slug"] == "hkte")
    user = next(u for u in demo["console"]["users"] if u["partner"] == "hkte")
    auth = {"Authorization": f"Bearer {hkte['token']}"}
    with httpx.Client(base_url=server.base, timeout=30) as api:
        events = {e["title"]: e for e in api.get("/api/v1/events?limit=100").json()["items"]}
        summit, seminar = events["Global Talent Summit 2027"], events["Fintech Seminar"]
        tickets = {}
        for width, name in zip(WIDTHS, ("Chan Tai Man", "Wong Siu Ming"), strict=True):
            person = {
                "name": name,
                "email": f"{name.lower().replace(' ', '.')}@example.org",
                "answers": {"organisation": "HKUST", "sector": "Fintech"},
            }
            made = api.post(f"/api/v1/events/{seminar['id']}/registrations", json=person)
            made.raise_for_status()
            tickets[width] = (made.json()["ticket_url"], made.json()["ticket"]["code"])
        door = api.post(
            f"/api/v1/events/{seminar['id']}/door-tokens",
            json={"label": "Main entrance"},
            headers=auth,
        )
        door.raise_for_status()
    return Demo(
        summit=summit["slug"],
        seminar=seminar["slug"],
        seminar_id=seminar["id"],
        tickets=tickets,
        scan_url=f"{server.base}/scan?token={door.json()['token']}",
        email=user["email"],
        password=user["password"],
    )


def shoot(page: Page, out: Path, name: str, width: str) -> None:
    path = out / f"{name}-{width}.png"
    page.screenshot(path=str(path), full_page=True)
    log(f"wrote {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}")


def photograph(browser: Browser, server: Server, demo: Demo, out: Path, width: str) -> None:
    w, h = WIDTHS[width]
    phone = width == "phone"
    context = browser.new_context(
        base_url=server.base,
        viewport={"width": w, "height": h},
        is_mobile=phone,
        has_touch=phone,
        locale="en-GB",
    )
    page = context.new_page()
    for name, path in [
        ("home", "/"),
        ("event", f"/events/{demo.summit}"),
        ("event-register", f"/events/{demo.seminar}"),
        ("ticket", demo.tickets[width][0]),
    ]:
        page.goto(path)
        shoot(page, out, name, width)

    page.goto(demo.scan_url)
    expect(page.locator("#n-confirmed")).not_to_have_text("–")  # the counts have arrived
    shoot(page, out, "scan", width)
    page.locator("#code").fill(demo.tickets[width][1])
    page.keyboard.press("Enter")
    expect(page.locator("#result")).to_be_visible()
    shoot(page, out, "scan-admitted", width)

    page.goto("/console")
    shoot(page, out, "console-sign-in", width)
    page.get_by_label("Email").fill(demo.email)
    page.get_by_label("Password").fill(demo.password)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("link", name="New event")).to_be_visible()
    shoot(page, out, "console", width)
    page.goto(f"/console/events/{demo.seminar_id}")
    shoot(page, out, "console-event", width)
    page.goto(f"/console/events/{demo.seminar_id}/attendees")
    page.get_by_role("button", name="Send the ticket again to").first.click()
    expect(page.locator("#flash")).to_be_visible()
    shoot(page, out, "console-attendees", width)
    page.goto(f"/console/events/{demo.seminar_id}/messages")
    page.get_by_label("Subject").fill("Doors open at 8:30")
    page.get_by_label("Message", exact=True).fill("Please bring your QR ticket.\nSee you there.")
    page.get_by_role("button", name="Count who will receive it").click()
    expect(page.locator(".counted")).to_be_visible()
    shoot(page, out, "console-messages", width)

    page.goto(f"/events/{demo.seminar}?lang=zh-Hant")
    shoot(page, out, "event-zh-Hant", width)
    context.close()


def main() -> int:
    options = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    options.add_argument("--out", type=Path, default=ROOT / "screenshots")
    out: Path = options.parse_args().out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    with (
        tempfile.TemporaryDirectory(prefix="events-shots-") as logs,
        fresh_database("events_shots") as url,
    ):
        server = Server(server_env(url), Path(logs), "--workers", "1")
        try:
            server.wait_healthy()
            log(f"serving on {server.base}; loading the demo")
            demo = load_demo(server)
            with sync_playwright() as driver:
                browser = driver.chromium.launch(
                    executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
                )
                for width in WIDTHS:
                    photograph(browser, server, demo, out, width)
                browser.close()
            server.terminate()
        finally:
            server.kill()
    return 0


if __name__ == "__main__":
    sys.exit(main())
