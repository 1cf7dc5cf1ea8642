"""`python -m events mail list | show ID`: what would have been sent, for operators without SMTP."""

from __future__ import annotations

import os
import subprocess
import sys
from typing import Any

import httpx

from tests.conftest import BASE_URL, Partner, create_event
from tests.live_server import ROOT


def mail_cli(database_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATABASE_URL": database_url, "EVENTS_BASE_URL": BASE_URL}
    return subprocess.run(
        [sys.executable, "-m", "events", "mail", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


async def test_mail_list_and_show_print_what_would_be_sent(
    client: httpx.AsyncClient, partner: Partner, database_url: str
) -> None:
    event = await create_event(client, partner, title="環球人才高峰會")
    made = await client.post(
        f"/api/v1/events/{event['id']}/registrations",
        json={"name": "陳大文", "email": f"cli-{event['id'][:8]}@example.org", "locale": "zh-Hant"},
    )
    r: dict[str, Any] = made.json()
    listed = mail_cli(database_url, "list", "--limit", "5")
    assert listed.returncode == 0, listed.stderr
    [line] = [x for x in listed.stdout.splitlines() if r["email"] in x]
    mail_id, _, status, kind, to, subject = line.split("\t")
    assert (status, kind, to, subject) == (
        "pending",
        "confirmation",
        r["email"],
        "報名成功：環球人才高峰會",
    )
    shown = mail_cli(database_url, "show", mail_id)
    assert shown.returncode == 0, shown.stderr
    assert "Subject: 報名成功：環球人才高峰會" in shown.stdout
    assert r["email"] in shown.stdout and r["ticket_url"] in shown.stdout
    assert "陳大文 您好" in shown.stdout and "ticket.png (image/png)" in shown.stdout
    missing = mail_cli(database_url, "show", "999999999")
    assert missing.returncode == 1 and "no mail" in missing.stderr
