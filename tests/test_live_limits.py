"""Limits of a live server (`python -m events serve`) on request heads, bodies and their
timing (issue 20): what the ASGI app never sees is tested over real sockets."""

from __future__ import annotations

import contextlib
import socket
import time
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest

from events.db import Database, migrate
from tests.live_server import Server, create_database, drop_database, running, server_env


@pytest.fixture(scope="module")
async def limits_database(database_url: str) -> AsyncIterator[str]:
    url, name = await create_database(database_url, "events_limits")
    db = Database(url, pool_size=1)
    await db.connect()
    await migrate(db)
    await db.disconnect()
    yield url
    await drop_database(database_url, name)


@pytest.fixture(scope="module")
def server(limits_database: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    env = server_env(limits_database)
    env.update(EVENTS_HEAD_TIMEOUT="1", EVENTS_BODY_TIMEOUT="1", EVENTS_MAIL_WORKER="0")
    with running(Server(env, tmp_path_factory.mktemp("limits"), "--workers", "1")) as live:
        yield live


def exchange(server: Server, data: bytes, *, wait: float = 5.0) -> bytes:
    """Send raw bytes, read until the server closes or `wait` passes."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=wait) as sock:
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            sock.sendall(data)
        received = b""
        try:
            while chunk := sock.recv(65536):
                received += chunk
        except (TimeoutError, ConnectionResetError):
            pass
        return received


def head(path: str = "/healthz", extra: bytes = b"") -> bytes:
    return b"GET " + path.encode() + b" HTTP/1.1\r\nHost: 127.0.0.1\r\n" + extra


def test_an_ordinary_request_passes(server: Server) -> None:
    answer = exchange(server, head(extra=b"Connection: close\r\n\r\n"))
    assert answer.startswith(b"HTTP/1.1 200"), answer[:200]


def test_a_huge_header_is_431(server: Server) -> None:
    big = b"X-Big: " + b"a" * (1024 * 1024) + b"\r\n"
    answer = exchange(server, head(extra=big + b"\r\n"))
    assert answer.startswith(b"HTTP/1.1 431"), answer[:200]
    many = b"".join(b"X-H%d: 1\r\n" % i for i in range(300))
    answer = exchange(server, head(extra=many + b"\r\n"))
    assert answer.startswith(b"HTTP/1.1 431"), answer[:200]


def test_a_half_sent_head_is_cut_off(server: Server) -> None:
    started = time.monotonic()
    answer = exchange(server, head(extra=b"X-Slow: "), wait=10)
    assert answer.startswith(b"HTTP/1.1 408"), answer[:200]
    assert time.monotonic() - started < 5
    silent = exchange(server, b"", wait=10)  # connected, says nothing
    assert time.monotonic() - started < 10 and silent.startswith(b"HTTP/1.1 408")


def test_a_half_sent_body_is_408(server: Server) -> None:
    partial = (
        b"POST /api/v1/events/00000000-0000-0000-0000-000000000000/registrations HTTP/1.1\r\n"
        b"Host: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"
    )
    started = time.monotonic()
    answer = exchange(server, partial, wait=10)
    assert answer.startswith(b"HTTP/1.1 408"), answer[:300]
    assert b"request-timeout" in answer and time.monotonic() - started < 5


def test_the_host_header_is_checked_live(server: Server) -> None:
    assert httpx.get(f"{server.base}/", headers={"Host": "evil.example"}).status_code == 400
    ok = httpx.get(f"{server.base}/healthz")
    assert ok.status_code == 200
