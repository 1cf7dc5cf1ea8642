"""A background loop for the life of a block: the one way the mail and webhook workers and
the periodic-jobs runner are started and stopped.

On the way out the loop is asked to stop (no new round starts), the round in hand may
finish for at most `grace` seconds (what it leaves unfinished is claimed again later), and
then the block ends.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Protocol, TypeVar

log = logging.getLogger("events.loops")


class Loop(Protocol):
    async def run(self) -> None: ...

    def stop(self) -> None: ...


L = TypeVar("L", bound=Loop)


@contextlib.asynccontextmanager
async def running(loop: L, *, name: str, grace: float) -> AsyncIterator[L]:
    task = asyncio.create_task(loop.run(), name=name)
    try:
        yield loop
    finally:
        loop.stop()
        try:
            await asyncio.wait_for(task, grace)
        except TimeoutError:
            log.warning(
                "%s did not finish within %.0fs; what it had in hand is retried", name, grace
            )
