"""Rate limits on the `limits` library: the EVENTS_RATE_LIMITS format, 429 with Retry-After,
counts shared through Redis by several processes, keyed by the client address a trusted proxy
forwards, and a storage that fails lets requests through."""

from __future__ import annotations

import secrets
import socket
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st
from starlette.applications import Starlette

from events import ratelimit
from tests.conftest import assert_problem
from tests.live_server import Server, free_port, running, server_env

REDIS = "redis://127.0.0.1:6379/0"


def test_the_format_reads_as_documented() -> None:
    assert ratelimit.parse("register=120/60,signin=10/60, public=600/60") == {
        "register": ratelimit.Limit(120, 60),
        "signin": ratelimit.Limit(10, 60),
        "public": ratelimit.Limit(600, 60),
    }
    for off in ("off", "OFF", " none ", "0", ""):
        assert ratelimit.parse(off) == {}
    for bad in ("register", "register=1", "register=a/60", "=1/60", "register=1/0", "x=1/-5"):
        with pytest.raises(ValueError, match="EVENTS_RATE_LIMITS"):
            ratelimit.parse(bad)
    with pytest.raises(ValueError, match="EVENTS_RATE_LIMIT_STORAGE"):
        ratelimit.storage("memcached://127.0.0.1:11211")


names = st.from_regex(r"[a-z][a-z_]{0,15}", fullmatch=True)


@given(st.dictionaries(names, st.tuples(st.integers(0, 10**6), st.integers(1, 86400)), min_size=1))
def test_any_written_limits_read_back(written: dict[str, tuple[int, int]]) -> None:
    spec = ",".join(f"{name}={count}/{seconds}" for name, (count, seconds) in written.items())
    assert ratelimit.parse(spec) == {
        name: ratelimit.Limit(count, seconds) for name, (count, seconds) in written.items()
    }


async def test_over_the_limit_is_429_with_retry_after(
    app: Starlette, client: httpx.AsyncClient
) -> None:
    saved = app.state.limiter
    app.state.limiter = ratelimit.Limiter(ratelimit.parse("public=3/60"))
    try:
        for _ in range(3):
            assert (await client.get("/api/v1/events")).status_code == 200
        refused = await client.get("/api/v1/events")
    finally:
        app.state.limiter = saved
    assert_problem(refused, 429, "rate-limited")
    assert 1 <= int(refused.headers["retry-after"]) <= 60


def _redis_answers() -> bool:
    with socket.socket() as s:
        s.settimeout(1)
        return s.connect_ex(("127.0.0.1", 6379)) == 0


needs_redis = pytest.mark.skipif(not _redis_answers(), reason="no Redis on 127.0.0.1:6379")


@needs_redis
async def test_limiters_share_their_counts_through_redis() -> None:
    limits = ratelimit.parse("signin=3/60")
    first, second = (ratelimit.Limiter(limits, REDIS) for _ in range(2))
    client = f"203.0.113.{secrets.randbelow(250)}-{secrets.token_hex(4)}"
    assert await first.hit("signin", client)
    assert await second.hit("signin", client)
    assert await first.hit("signin", client)
    assert not await second.hit("signin", client)  # the fourth, counted by the other
    assert await second.hit("signin", f"{client}-someone-else")
    for limiter in (first, second):
        await limiter.close()


async def test_a_storage_that_fails_lets_requests_through() -> None:
    limiter = ratelimit.Limiter(ratelimit.parse("signin=1/60"), f"redis://127.0.0.1:{free_port()}")
    started = time.monotonic()
    for _ in range(3):
        await limiter.check("signin", "198.51.100.7")
    assert time.monotonic() - started < 5
    await limiter.close()


@pytest.fixture
def log_dir() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="events-limits-") as folder:
        yield Path(folder)


def _get(server: Server, forwarded_for: str) -> int:
    response = httpx.get(
        f"{server.base}/api/v1/events", headers={"X-Forwarded-For": forwarded_for}, timeout=10
    )
    return response.status_code


@needs_redis
def test_serve_counts_the_forwarded_client_across_processes(
    database_url: str, log_dir: Path
) -> None:
    """Two `serve` processes sharing Redis, behind a proxy on loopback (trusted by default):
    the limit counts each real client across both, not the proxy's address."""
    env = {
        **server_env(database_url),
        "EVENTS_RATE_LIMITS": "public=4/60",
        "EVENTS_RATE_LIMIT_STORAGE": REDIS,
    }
    one = Server(env, log_dir, "--no-worker", "--workers", "1")
    two = Server(env, log_dir, "--no-worker", "--workers", "1")
    client = f"10.{secrets.randbelow(250)}.{secrets.randbelow(250)}.{secrets.randbelow(250)}"
    with running(one), running(two):
        assert [_get(s, client) for s in (one, two, one, two, one)] == [200] * 4 + [429]
        assert _get(two, f"198.51.100.{secrets.randbelow(250)}") == 200
        assert "web node" in one.output()


def test_serve_believes_forwarded_addresses_only_from_trusted_proxies(
    database_url: str, log_dir: Path
) -> None:
    env = {**server_env(database_url), "EVENTS_RATE_LIMITS": "public=2/60"}
    server = Server(env, log_dir, "--forwarded-allow-ips", "192.0.2.254", "--workers", "1")
    with running(server):  # loopback is no trusted proxy: every request is 127.0.0.1's
        assert [_get(server, f"203.0.113.{n}") for n in (1, 2, 3)] == [200, 200, 429]
