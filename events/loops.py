"""A background loop for the life of a block: the one way the mail and webhook workers and
the periodic-jobs runner are started and stopped; and the polling loop both workers run.

On the way out the loop is asked to stop (no new round starts), the round in hand may
finish for at most `grace` seconds (what it leaves unfinished is claimed again later), and
then the block ends.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from typing import ClassVar, Protocol, TypeVar

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


class Poller:
    """A worker that claims up to `batch` items a round (`run_once`): the next round starts at
    once after a full one, `poll_seconds` after one that was not, and further apart (up to
    30 s) while rounds fail, as they do while the database is away."""

    name: ClassVar[str] = "worker"

    def __init__(self, *, batch: int, poll_seconds: float) -> None:
        self.batch = batch
        self.poll_seconds = poll_seconds
        self.failed_rounds = 0  # rounds that ended in an error (a database outage, say)
        self._stopping = asyncio.Event()

    async def run_once(self) -> int:
        raise NotImplementedError

    async def run(self) -> None:
        """Round after round until `stop()`; errors only slow it down."""
        pause = self.poll_seconds
        while not self._stopping.is_set():
            claimed = 0
            try:
                claimed = await asyncio.create_task(self.run_once())
                pause = self.poll_seconds
            except Exception as exc:
                self.failed_rounds += 1
                pause = min(pause * 2, 30.0)
                log.warning("%s: %s; next try in %.0fs", self.name, exc.__class__.__name__, pause)
            if claimed >= self.batch:
                continue
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), pause)

    def stop(self) -> None:
        self._stopping.set()
