"""In Chromium: the door scanner finds 陳大文 by a Simplified, romanised or full-width query
while the device is offline (the check-in kit's search keys and fold map), and the event
page reads in the reader's language."""

from __future__ import annotations

import httpx
import pytest
from playwright.async_api import Browser, expect

from tests.conftest import Partner, create_event
from tests.live_server import Server
from tests.test_browser import (
    api,
    browser,
    chromium,
    live,
    live_database,
    live_db,
    open_scanner,
    owner,
    playwright,
)
from tests.test_checkin import door_for, register

__all__ = [
    "api",
    "browser",
    "chromium",
    "live",
    "live_database",
    "live_db",
    "owner",
    "playwright",
]  # the live server and browser fixtures of test_browser
pytestmark = [pytest.mark.usefixtures("chromium"), pytest.mark.slow]


async def test_offline_door_search_folds_the_query_like_the_server(
    browser: Browser, live: Server, api: httpx.AsyncClient, owner: Partner
) -> None:
    event = await create_event(api, owner)
    door = await door_for(api, owner, event)
    await register(api, event, "Chan Tai Man", chinese_name="陳大文")
    await register(api, event, "Wong Mei")
    device = await browser.new_context(base_url=live.base, locale="zh-HK")
    try:
        page = await open_scanner(device, door.token, event["id"])
        results = page.locator("#search-results")
        await page.fill("#search", "chan tai man")  # online: the server's search
        await page.press("#search", "Enter")
        await expect(results).to_contain_text("陳大文 · Chan Tai Man")
        await device.set_offline(True)
        for query in ("陈大文", "ＣＨＡＮ　ＴＡＩ－ＭＡＮ", "大文"):
            await page.fill("#search", query)
            await page.press("#search", "Enter")
            await expect(results).to_contain_text("陳大文 · Chan Tai Man")
            await expect(results).not_to_contain_text("Wong Mei")
    finally:
        await device.close()
