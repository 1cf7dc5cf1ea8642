"""Group commit: concurrent requests of one key, in one process, done by one statement.

While a batch of a key is running, the requests of that key that arrive wait in its lane;
when the batch ends, the first of them leads the next batch: it runs all that waited (up to
`most`) on its own connection, and each waiter gets its own outcome. A lone request leads at
once, alone, so nothing waits for a timer: batches grow with the load and only with it (a
surge of 50 at a time forms batches of tens; one request a second forms batches of one).

`run(conn, items)` returns one outcome per item, in order: a value, an exception (raised to
that caller alone), or `ALONE`, which tells the caller to do the work by itself (its own path,
on its own connection). When `run` itself fails, every member gets `ALONE`: a failed batch
fails none of its innocent members, each is decided again on its own.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from events.queries import Connection

Item = TypeVar("Item")


class _Alone:
    def __repr__(self) -> str:
        return "ALONE"


ALONE: Any = _Alone()
_LEAD: Any = object()


@dataclass(slots=True)
class _Waiter(Generic[Item]):
    item: Item
    outcome: asyncio.Future[Any]


@dataclass(slots=True)
class _Lane(Generic[Item]):
    waiting: list[_Waiter[Item]] = field(default_factory=list)
    busy: bool = False


class Gatherer(Generic[Item]):
    def __init__(
        self,
        run: Callable[[Connection, list[Item]], Awaitable[list[Any]]],
        *,
        most: int = 64,
    ) -> None:
        self._run = run
        self._most = most
        self._lanes: dict[Hashable, _Lane[Item]] = {}
        self.batches = 0  # batches run and their members, for tests and the bench
        self.members = 0

    async def submit(self, conn: Connection, key: Hashable, item: Item) -> Any:
        """This item's outcome: a value, `ALONE`, or the exception raised here."""
        lane = self._lanes.setdefault(key, _Lane())
        me = _Waiter(item, asyncio.get_running_loop().create_future())
        lane.waiting.append(me)
        if not lane.busy:
            lane.busy = True
            await self._lead(conn, key, lane)
        while True:
            outcome = await me.outcome
            if outcome is not _LEAD:
                break
            me.outcome = asyncio.get_running_loop().create_future()
            await self._lead(conn, key, lane)
        if isinstance(outcome, BaseException):
            raise outcome
        return outcome

    async def _lead(self, conn: Connection, key: Hashable, lane: _Lane[Item]) -> None:
        batch, lane.waiting = lane.waiting[: self._most], lane.waiting[self._most :]
        outcomes: list[Any] = [ALONE] * len(batch)
        try:
            outcomes = await self._run(conn, [w.item for w in batch])
            assert len(outcomes) == len(batch)
        except Exception:
            outcomes = [ALONE] * len(batch)  # each, the leader too, is decided alone
        finally:  # also when the leader is cancelled: the others go on alone
            self.batches += 1
            self.members += len(batch)
            for waiter, outcome in zip(batch, outcomes, strict=True):
                if not waiter.outcome.done():
                    waiter.outcome.set_result(outcome)
            self._hand_off(key, lane)

    def _hand_off(self, key: Hashable, lane: _Lane[Item]) -> None:
        """The next batch is led by the first who waited for it (and is still waiting)."""
        while lane.waiting:
            first = lane.waiting[0]
            if not first.outcome.done():
                first.outcome.set_result(_LEAD)
                return
            lane.waiting.pop(0)  # cancelled while it waited
        lane.busy = False
        if self._lanes.get(key) is lane:
            del self._lanes[key]
