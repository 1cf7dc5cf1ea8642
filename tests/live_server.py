"""A real `python -m events serve` process, a fresh database for it and the browser to drive
it: what needs a live HTTP server uses this (the CLI tests, the browser tests,
scripts/screenshots).

The process is the one an operator runs; it is told where it lives (EVENTS_BASE_URL) so the
links it writes (ticket URLs, pairing links) point back at it.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import httpx

ROOT = Path(__file__).resolve().parents[1]
#: Debian's Chromium, driven by Playwright's bundled driver (no browser download)
CHROMIUM = Path("/usr/bin/chromium")
#: this machine's network is closed: without these Chromium's background connections fail
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
#: the PostgreSQL that scripts use when DATABASE_URL is unset (as scripts/test does)
LOCAL_SERVER = "postgresql://postgres@127.0.0.1:5432/postgres"


async def create_database(server_url: str, prefix: str = "events_test") -> tuple[str, str]:
    """A new, empty database on the server of `server_url`: (its URL, its name)."""
    name = f"{prefix}_{os.getpid()}_{secrets.token_hex(3)}"
    conn = await asyncpg.connect(server_url)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    # the server's URL with the new name as its path (an embedded one has ?host=/its/socket)
    return urlunsplit(urlsplit(server_url)._replace(path=f"/{name}")), name


async def drop_database(server_url: str, name: str) -> None:
    conn = await asyncpg.connect(server_url)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


async def _answers(url: str) -> bool:
    try:
        conn = await asyncio.wait_for(asyncpg.connect(url), 3)
    except (TimeoutError, OSError, asyncpg.PostgresError):
        return False
    await conn.close()
    return True


@contextmanager
def fresh_database(prefix: str = "events_tmp") -> Iterator[str]:
    """For scripts (no event loop running): the URL of a new database on DATABASE_URL's
    server, else on the local PostgreSQL, else in an embedded PostgreSQL; gone afterwards."""
    server = os.environ.get("DATABASE_URL") or None
    if server is None and asyncio.run(_answers(LOCAL_SERVER)):
        server = LOCAL_SERVER
    if server is None:
        from events.embedded import EmbeddedPostgres

        with tempfile.TemporaryDirectory(prefix=f"{prefix}-") as folder:
            os.chmod(folder, 0o755)  # the unprivileged postgres user must reach it
            embedded = EmbeddedPostgres(Path(folder))
            try:
                yield embedded.start()
            finally:
                embedded.stop()
        return
    url, name = asyncio.run(create_database(server, prefix))
    try:
        yield url
    finally:
        asyncio.run(drop_database(server, name))


def server_env(database_url: str) -> dict[str, str]:
    """The environment for a server of tests or scripts on `database_url`: this one without
    the service's own settings (and without SMTP_URL: mail stays in the outbox), rate
    limits off."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("EVENTS_") and k != "SMTP_URL"}
    env.update(DATABASE_URL=database_url, EVENTS_RATE_LIMITS="off")
    return env


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class Server:
    """`python -m events serve --port <free port> *args` (or another `command` that takes
    serve's arguments) with `env`, logging to `log_dir`."""

    def __init__(
        self,
        env: Mapping[str, str],
        log_dir: Path,
        *args: str,
        command: Sequence[str] = (sys.executable, "-m", "events", "serve"),
        base_url: bool = True,
    ) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.env = {**env, "PYTHONUNBUFFERED": "1"}
        if base_url:  # else serve's own default
            self.env["EVENTS_BASE_URL"] = self.base
        self.log = (log_dir / f"serve-{self.port}.log").open("w+")
        self.process = subprocess.Popen(
            [*command, "--port", str(self.port), *args],
            cwd=ROOT,
            env=self.env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )

    def wait_healthy(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.process.poll() is None, self.output()
            try:
                if httpx.get(f"{self.base}/healthz", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.2)  # waiting for a real process to start
        raise AssertionError(f"serve did not become healthy:\n{self.output()}")

    def terminate(self) -> float:
        """SIGTERM; returns the seconds it took to exit (failing past 30)."""
        started = time.monotonic()
        self.process.send_signal(signal.SIGTERM)
        try:
            code = self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            raise AssertionError(f"serve ignored SIGTERM for 30 s:\n{self.output()}") from None
        assert code == 0, self.output()
        return time.monotonic() - started

    def output(self) -> str:
        self.log.flush()
        self.log.seek(0)
        return self.log.read()[-5000:]

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        self.log.close()


@contextmanager
def running(server: Server) -> Iterator[Server]:
    """The server once healthy; stopped by SIGTERM (which must end it cleanly) afterwards."""
    try:
        server.wait_healthy()
        yield server
        server.terminate()
    finally:
        server.kill()
