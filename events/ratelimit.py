"""Rate limits for public and sign-in endpoints, per client address, on the `limits` library.

`EVENTS_RATE_LIMITS` is a comma-separated list of `name=requests/seconds` (e.g.
`register=120/60,signin=10/60,public=600/60`); `off` turns every limit off. Each is a fixed
window per (name, address). Where they are counted is `EVENTS_RATE_LIMIT_STORAGE`:
`memory://` (the default) counts in each process alone, so with N processes the effective
limit is N times the figure; `redis://host:port` counts in Redis, shared by every process of
every node. The address is the client's as the server saw it, which behind a proxy is the one
the proxy forwards when `EVENTS_FORWARDED_ALLOW_IPS` trusts it (uvicorn's proxy headers).

A storage that fails (Redis down) lets requests through and says so in the log: rate limits
protect the service, and must not become the reason it is down.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass

from limits import RateLimitItem, RateLimitItemPerSecond
from limits.aio.storage import Storage
from limits.aio.strategies import FixedWindowRateLimiter
from limits.storage import storage_from_string

from events.errors import RateLimited

log = logging.getLogger("events.ratelimit")

#: how often a failing storage is reported, at most
_REPORT_EVERY = 60.0


@dataclass(frozen=True, slots=True)
class Limit:
    requests: int
    seconds: float


def parse(spec: str) -> dict[str, Limit]:
    """'register=120/60,signin=10/60' → {'register': Limit(120, 60), ...}; 'off' → {}."""
    if spec.strip().lower() in ("off", "none", "0", ""):
        return {}
    limits: dict[str, Limit] = {}
    for part in spec.split(","):
        name, _, rule = part.strip().partition("=")
        count, _, seconds = rule.partition("/")
        if not name or not count.isdigit() or not seconds.replace(".", "", 1).isdigit():
            raise ValueError(
                f"EVENTS_RATE_LIMITS: cannot read {part!r} (want name=requests/seconds)"
            )
        if float(seconds) <= 0:
            raise ValueError(f"EVENTS_RATE_LIMITS: {part!r} needs a window of over 0 seconds")
        limits[name.strip()] = Limit(int(count), float(seconds))
    return limits


def storage(uri: str) -> Storage:
    """`memory://` or `redis://…` (also `rediss://`, `redis+unix://`) as an async storage."""
    scheme = uri.partition("://")[0].lower()
    if scheme not in ("memory", "redis", "rediss", "redis+unix"):
        raise ValueError(f"EVENTS_RATE_LIMIT_STORAGE: cannot use {uri!r} (memory:// or redis://)")
    options: dict[str, float | str | bool] = {}
    if scheme != "memory":
        # redis-py's asyncio client; a Redis that does not answer costs at most this much
        options = {"implementation": "redispy", "socket_timeout": 0.5}
        options["socket_connect_timeout"] = 0.5
    found = storage_from_string(f"async+{uri}", **options)
    assert isinstance(found, Storage)
    return found


class Limiter:
    """Counts requests per (limit name, client address) in `storage_uri`."""

    def __init__(self, limits: dict[str, Limit], storage_uri: str = "memory://") -> None:
        self.limits = limits
        self._items: dict[str, RateLimitItem] = {
            name: RateLimitItemPerSecond(
                limit.requests, max(1, math.ceil(limit.seconds)), namespace="events"
            )
            for name, limit in limits.items()
        }
        self._storage = storage(storage_uri) if limits else None
        self._strategy = FixedWindowRateLimiter(self._storage) if self._storage else None
        self._reported = -_REPORT_EVERY

    async def close(self) -> None:
        """Close the storage's connections (Redis); `limits` has no method for it."""
        client = getattr(getattr(self._storage, "bridge", None), "storage", None)
        close = getattr(client, "aclose", None)
        if close is not None:
            await close()

    async def hit(self, name: str, client: str) -> bool:
        """Count one request; False when it is over the limit."""
        item = self._items.get(name)
        if item is None or self._strategy is None:
            return True
        try:
            return await self._strategy.hit(item, name, client)
        except Exception as exc:  # the storage's own errors (connection refused, timeout)
            self._report(exc)
            return True

    async def check(self, name: str, client: str | None) -> None:
        """Count one request of `client`; RateLimited (with the seconds until the window
        ends) when it is over the limit."""
        if await self.hit(name, client or "unknown"):
            return
        raise RateLimited(retry_after=await self._retry_after(name, client or "unknown"))

    async def _retry_after(self, name: str, client: str) -> int:
        item = self._items[name]
        assert self._strategy is not None
        try:
            stats = await self._strategy.get_window_stats(item, name, client)
        except Exception:
            return item.get_expiry()
        return max(1, math.ceil(stats.reset_time - time.time()))

    def _report(self, exc: Exception) -> None:
        now = time.monotonic()
        if now - self._reported >= _REPORT_EVERY:
            self._reported = now
            log.warning("rate-limit storage failed, requests pass unlimited: %r", exc)
