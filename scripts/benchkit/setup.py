"""HTTP for setting a run up: partners' events and what the API lists."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from datetime import UTC, datetime, timedelta
from typing import Any


def call(
    port: int, method: str, path: str, token: str | None = None, body: Any = None
) -> tuple[int, Any]:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data, method=method)
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    if data is not None:
        request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            status, raw = answer.status, answer.read()
    except urllib.error.HTTPError as exc:
        status, raw = exc.code, exc.read()
    try:
        return status, json.loads(raw) if raw else None
    except ValueError:
        return status, raw


def must(answer: tuple[int, Any], *ok: int) -> Any:
    status, body = answer
    if status not in ok:
        raise SystemExit(f"setup call failed: {status} {body!r}")
    return body


def make_event(port: int, token: str, title: str, capacity: int, waitlist: bool) -> str:
    start = datetime.now(UTC) + timedelta(days=30)
    event = must(
        call(
            port,
            "POST",
            "/api/v1/events",
            token,
            {
                "title": title,
                "timezone": "Asia/Hong_Kong",
                "starts_at": start.isoformat(),
                "ends_at": (start + timedelta(hours=8)).isoformat(),
                "capacity": capacity,
                "waitlist": waitlist,
            },
        ),
        201,
    )
    must(call(port, "POST", f"/api/v1/events/{event['id']}/publish", token, {}), 200)
    return str(event["id"])


def list_all(port: int, token: str, path: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    cursor = None
    while True:
        sep = "&" if "?" in path else "?"
        page = must(
            call(
                port,
                "GET",
                f"{path}{sep}limit=500" + (f"&cursor={cursor}" if cursor else ""),
                token,
            ),
            200,
        )
        items += page["items"]
        cursor = page.get("next_cursor")
        if not cursor:
            return items
