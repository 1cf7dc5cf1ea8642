"""Rate limits for public and sign-in endpoints, per client address, per process.

`EVENTS_RATE_LIMITS` is a comma-separated list of `name=requests/seconds` (e.g.
`register=120/60,signin=10/60,public=600/60`); `off` turns every limit off. A fixed
window per (name, address) is enough to blunt floods and password guessing; with several
worker processes each counts on its own, so the effective limit is workers × the figure.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from events.errors import RateLimited


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
        limits[name.strip()] = Limit(int(count), float(seconds))
    return limits


@dataclass
class Limiter:
    limits: dict[str, Limit]
    clock: Callable[[], float] = time.monotonic
    _windows: dict[tuple[str, str], tuple[float, int]] = field(default_factory=dict)

    def hit(self, name: str, client: str) -> bool:
        """Count one request; False when it is over the limit."""
        limit = self.limits.get(name)
        if limit is None:
            return True
        now = self.clock()
        start, count = self._windows.get((name, client), (now, 0))
        if now - start >= limit.seconds:
            start, count = now, 0
        if len(self._windows) > 100_000:
            self._windows.clear()  # a flood of addresses: forget rather than grow without bound
        self._windows[(name, client)] = (start, count + 1)
        return count < limit.requests

    def retry_after(self, name: str, client: str) -> int:
        """Whole seconds until the window of (name, client) starts again (at least 1)."""
        limit = self.limits.get(name)
        start, _ = self._windows.get((name, client), (self.clock(), 0))
        left = (limit.seconds if limit else 1) - (self.clock() - start)
        return max(1, math.ceil(left))

    def check(self, name: str, request: object) -> None:
        client = getattr(request, "client", None)
        address = client.host if client else "unknown"
        if not self.hit(name, address):
            raise RateLimited(retry_after=self.retry_after(name, address))
