"""Console: the review queue (one and many), approval settings, access codes, guests and the
CSV import with its report."""

from __future__ import annotations

from typing import Any

import httpx

from tests.conftest import Partner, create_event
from tests.test_web import csrf_of
from tests.test_web_console import console

__all__ = ["console"]


async def apply(client: httpx.AsyncClient, event: dict[str, Any], who: str) -> dict[str, Any]:
    made = await client.post(
        f"/api/v1/events/{event['id']}/registrations",
        json={"name": who.title(), "email": f"{who}@example.org"},
    )
    body: dict[str, Any] = made.json()
    return body


async def test_review_queue_approves_and_rejects_one_and_many(
    client: httpx.AsyncClient, partner: Partner, console: httpx.AsyncClient
) -> None:
    event = await create_event(client, partner, approval="screen", capacity=10)
    regs = [await apply(client, event, f"queue{i}") for i in range(4)]
    url = f"/console/events/{event['id']}/review"
    page = await console.get(url)
    assert page.status_code == 200 and all(r["email"] in page.text for r in regs)
    overview = await console.get(f"/console/events/{event['id']}")
    assert "Review queue (4)" in overview.text
    csrf = csrf_of(page)
    one = await console.post(url, data={"csrf": csrf, "one": f"approve:{regs[0]['id']}"})
    assert one.status_code == 200 and "confirmed" in one.text
    assert regs[0]["email"] not in one.text.split("<table>")[1]
    many = await console.post(
        url,
        data={
            "csrf": csrf,
            "action": "reject",
            "ids": [regs[1]["id"], regs[2]["id"]],
            "reason": "Full",
        },
    )
    assert many.text.count("rejected") >= 2
    listed = await client.get(f"/api/v1/events/{event['id']}/registrations", headers=partner.auth)
    statuses = [r["status"] for r in listed.json()["items"]]
    assert statuses == ["confirmed", "rejected", "rejected", "pending"]


async def test_settings_codes_guests_and_import(
    client: httpx.AsyncClient, partner: Partner, console: httpx.AsyncClient
) -> None:
    event = await create_event(client, partner)
    base = f"/console/events/{event['id']}/access"
    page = await console.get(base)
    assert page.status_code == 200
    csrf = csrf_of(page)
    saved = await console.post(
        f"{base}/settings", data={"csrf": csrf, "approval": "hold", "invite_only": "yes"}
    )
    assert saved.status_code == 303
    read = (await client.get(f"/api/v1/events/{event['id']}", headers=partner.auth)).json()
    assert (read["approval"], read["invite_only"]) == ("hold", True)
    made = await console.post(
        f"{base}/codes",
        data={"csrf": csrf, "code": "CONSOLE-1", "max_uses": "5", "skip_approval": "yes"},
    )
    assert made.status_code == 303
    bad = await console.post(f"{base}/codes", data={"csrf": csrf, "code": "x"})
    assert bad.status_code == 422
    codes = (
        await client.get(f"/api/v1/events/{event['id']}/access-codes", headers=partner.auth)
    ).json()["items"]
    assert [(c["code"], c["max_uses"], c["skip_approval"]) for c in codes] == [
        ("CONSOLE-1", 5, True)
    ]
    revoked = await console.post(f"{base}/codes/{codes[0]['id']}/revoke", data={"csrf": csrf})
    assert revoked.status_code == 303
    invited = await console.post(
        f"{base}/guests",
        data={"csrf": csrf, "name": "陳大文", "email": "dm@example.org", "locale": "zh-Hant"},
    )
    assert invited.status_code == 303
    csv_file = "name,email\n李小龍,bruce@example.org\nBad,nope\n".encode()
    report = await console.post(
        f"{base}/import",
        data={"csrf": csrf, "dry_run": "yes"},
        files={"file": ("guests.csv", csv_file, "text/csv")},
    )
    assert report.status_code == 200 and "nothing was created" in report.text
    assert "bruce@example.org" in report.text and "error" in report.text
    done = await console.post(
        f"{base}/import", data={"csrf": csrf}, files={"file": ("guests.csv", csv_file, "text/csv")}
    )
    assert "1 guests invited" in done.text and "李小龍" in done.text
