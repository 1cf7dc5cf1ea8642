"""Export bench: an event with N registrations (200,000 by default) made by one bulk SQL
statement, then each export (CSV, XLSX) through a live `python -m events serve`: its first
byte, its first megabyte, its total time and size, and the server's memory (RSS) before,
at its peak during the download (sampled every 50 ms) and after. The XLSX is checked whole
(every member's CRC, and its last row is the last registration). The machine's load average
is reported beside the figures: they mean little without it.

    scripts/bench export [--registrations 200000]

Prints one JSON object; the README quotes its figures.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import threading
import time
import zipfile
from pathlib import Path
from typing import Any

import asyncpg
import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from events.db import Database, migrate  # noqa: E402
from tests.conftest import event_body, make_partner  # noqa: E402
from tests.live_server import Server, fresh_database, running, server_env  # noqa: E402

#: N registrations of one event in one statement: a quarter of them with a session, a third
#: checked in at the door token's door, answers to both questions, Chinese and Latin names.
BULK = """
WITH made AS (
  INSERT INTO registrations (event_id, name, email, locale, answers, status, shard,
                             created_at, confirmed_at, updated_at)
  SELECT $1, CASE WHEN n % 2 = 0 THEN '陳大文 ' || n ELSE 'Attendee ' || n END,
         'bench' || n || '@example.org', CASE WHEN n % 3 = 0 THEN 'zh-Hant' ELSE 'en' END,
         jsonb_build_object('org', 'Company ' || (n % 977), 'diet', CASE WHEN n % 2 = 0
           THEN '素食' ELSE 'Halal' END),
         'confirmed', (n % 16)::smallint, now(), now(), now()
  FROM generate_series(1, $2) AS n
  RETURNING id, seq
), sessions_taken AS (
  INSERT INTO registration_sessions (registration_id, session_id)
  SELECT id, $3 FROM made WHERE seq % 4 = 0
)
INSERT INTO checkins (id, event_id, registration_id, scope, checked_in_at, recorded_at, token_id)
SELECT gen_random_uuid(), $1, id, $1, now(), now(), $4 FROM made WHERE seq % 3 = 0
"""


def rss_mb(pid: int) -> float:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:  # the server is gone: the download fails and says why
        return 0.0
    for line in status.splitlines():
        if line.startswith("VmRSS:"):
            return round(int(line.split()[1]) / 1024, 1)
    return 0.0


async def prepare(url: str, count: int, base: str) -> tuple[str, str]:
    """The partner's token and an event with `count` registrations."""
    db = Database(url, pool_size=1)
    await db.connect()
    await migrate(db)
    partner = await make_partner(db, "Bench")
    await db.disconnect()
    questions = [
        {"id": "org", "label": "Organisation"},
        {"id": "diet", "label": "Diet", "kind": "choice", "options": ["素食", "Halal"]},
    ]
    async with httpx.AsyncClient(base_url=base, headers=partner.auth, timeout=60) as api:
        made = await api.post(
            "/api/v1/events", json=event_body(capacity=-(-count // 16) * 16, questions=questions)
        )
        event = made.json()
        await api.post(f"/api/v1/events/{event['id']}/publish")
        session = await api.post(
            f"/api/v1/events/{event['id']}/sessions",
            json={
                "title": "主題演講",
                "starts_at": event["starts_at"],
                "ends_at": event["ends_at"],
            },
        )
        door = await api.post(
            f"/api/v1/events/{event['id']}/door-tokens", json={"label": "North door"}
        )
    conn = await asyncpg.connect(url)
    try:
        token_id = await conn.fetchval(
            "SELECT id FROM api_tokens WHERE kind = 'door' AND event_id = $1", event_id(event)
        )
        await conn.execute("ALTER TABLE registrations DISABLE TRIGGER USER")
        await conn.execute(BULK, event_id(event), count, session_id(session.json()), token_id)
        await conn.execute("ALTER TABLE registrations ENABLE TRIGGER USER")
        await conn.execute(
            "UPDATE seat_shards s SET confirmed = c.n FROM (SELECT shard, count(*) AS n"
            " FROM registrations WHERE event_id = $1 GROUP BY shard) c"
            " WHERE s.event_id = $1 AND s.shard = c.shard",
            event_id(event),
        )
        await conn.execute("ANALYZE")
    finally:
        await conn.close()
    assert door.status_code == 201
    return partner.token, str(event["id"])


def event_id(event: dict[str, Any]) -> Any:
    from uuid import UUID

    return UUID(event["id"])


def session_id(session: dict[str, Any]) -> Any:
    from uuid import UUID

    return UUID(session["id"])


async def read_only(url: str, event: str) -> float:
    """The export's statement alone through the same cursor (what the database costs)."""
    from events.queries.exports import registrations_for_export

    conn = await asyncpg.connect(url)
    try:
        started = time.perf_counter()
        async with conn.transaction():
            async for _ in registrations_for_export(conn, event_id({"id": event})):
                pass
        return round(time.perf_counter() - started, 2)
    finally:
        await conn.close()


def timed_download(url: str, token: str, pids: list[int], into: Path) -> dict[str, Any]:
    """Download `url` into the file `into`, timing it and sampling the server's memory meanwhile."""
    peak = sum(rss_mb(x) for x in pids)
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.wait(0.05):
            peak = max(peak, sum(rss_mb(x) for x in pids))

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    started = time.perf_counter()
    first = first_mb = None
    size = 0
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.stream("GET", url, headers=headers, timeout=600) as r, into.open("wb") as out:
        assert r.status_code == 200, r.read()[:500]
        for chunk in r.iter_raw():
            if first is None and chunk:
                first = time.perf_counter() - started
            size += len(chunk)
            if first_mb is None and size >= 1_000_000:
                first_mb = time.perf_counter() - started
            out.write(chunk)
    total = time.perf_counter() - started
    done.set()
    sampler.join()
    return {
        "first_byte_s": round(first or total, 3),
        "first_mb_s": round(first_mb or total, 3),
        "total_s": round(total, 2),
        "mb": round(size / 1e6, 1),
        "server_rss_mb_peak": round(peak, 1),
    }


def last_xlsx_row(path: Path) -> int:
    """The number of the workbook's last row, after checking every member's CRC."""
    with zipfile.ZipFile(path) as book:
        assert book.testzip() is None
        tail = b""
        with book.open("xl/worksheets/sheet1.xml") as sheet:
            while block := sheet.read(1 << 20):
                tail = (tail + block)[-4096:]
    return int(tail.rsplit(b'<row r="', 1)[1].split(b'"', 1)[0])


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="scripts/bench export", description=__doc__.split("\n")[0])
    p.add_argument("--registrations", type=int, default=200_000)
    args = p.parse_args(argv)
    load_before = os.getloadavg()
    with fresh_database("events_bench_export") as url, tempfile.TemporaryDirectory() as logs:
        env = {**server_env(url), "EVENTS_MAIL_WORKER": "0"}
        with running(Server(env, Path(logs), "--workers", "1")) as server:
            started = time.perf_counter()
            token, event = asyncio.run(prepare(url, args.registrations, server.base))
            fixture_s = round(time.perf_counter() - started, 1)
            pids = _children(server.process.pid) or [server.process.pid]
            base = f"{server.base}/api/v1/events/{event}/registrations"
            runs: dict[str, Any] = {}
            for kind in ("csv", "xlsx"):
                before = sum(rss_mb(x) for x in pids)
                kept = Path(logs) / f"export.{kind}"
                try:
                    run = timed_download(f"{base}.{kind}", token, pids, kept)
                except Exception:
                    print(server.output(), file=sys.stderr)  # why the server stopped answering
                    raise
                after = sum(rss_mb(x) for x in pids)
                runs[kind] = {**run, "server_rss_mb_before": before, "server_rss_mb_after": after}
            runs["xlsx"]["last_row"] = last_xlsx_row(Path(logs) / "export.xlsx")
            sql_s = asyncio.run(read_only(url, event))
    report = {
        "registrations": args.registrations,
        "fixture_s": fixture_s,
        "sql_cursor_only_s": sql_s,
        **runs,
        "cores": os.cpu_count(),
        "load_average_1_5_15": {
            "before": [round(x, 1) for x in load_before],
            "after": [round(x, 1) for x in os.getloadavg()],
        },
    }
    print(json.dumps(report, indent=2))
    return 0


def _children(pid: int) -> list[int]:
    """serve's worker processes (the process that answers), else none."""
    found = []
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            text = status.read_text()
        except OSError:
            continue
        ppid = next((line.split()[1] for line in text.splitlines() if line.startswith("PPid:")), "")
        if ppid == str(pid):
            found.append(int(status.parent.name))
    return found


if __name__ == "__main__":
    raise SystemExit(main())
