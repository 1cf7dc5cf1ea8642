"""Registering in a surge: the registrations of one event that arrive together, in this
process, are committed by one statement (gather.py gathers them while the batch before runs).

The statement (queries.surge.insert_batch) locks a few shards with room, skipping those
another batch holds, numbers their free seats, gives the k-th member the k-th seat, inserts
the rows with ON CONFLICT DO NOTHING, counts only the seats of the rows inserted, and logs
each as registration.created: capacity stays exact (the counters are the locked rows', and
their CHECKs back them), one commit serves the batch. Each member then gets its own answer:

- its row: registered (confirmed, the seat of its slot);
- `already-registered`: its slot was there but its email was registered before (or by a member
  earlier in the batch);
- alone: no seat was left in the shards this batch held, or its email is also an earlier
  member's, or the statement failed: it registers by itself (registration.py's one-statement
  path with its fresh read, waitlist and refusal), as if there had been no batch;
- the database's failure (a lost connection, no answer in time): the statement may have
  committed, so each member answers as a lone registration would (503 outcome-unknown), and
  none registers again.

Only the plain case is batched: a remembered event with room, no sessions, no approval, codes
or invitations. A batch of one is the plain one-statement path (a seat from a random shard at
the remembered version), run in the lane so that the requests arriving meanwhile gather.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg

from events import db_errors, gather
from events.errors import AlreadyRegistered
from events.queries import Connection, Row
from events.queries import registration as q
from events.queries import surge as surge_q

ALONE = gather.ALONE
CHANGED: Any = object()  # no seat in the shard tried at the version remembered: read again
MOST = 64  # members in one batch


@dataclass(frozen=True, slots=True)
class Member:
    target: Row  # registration.py's remembered target (its version, its free shards)
    fields: dict[str, Any]
    now: datetime


async def _run(conn: Connection, members: list[Member]) -> list[Any]:
    try:
        return await _batch(conn, members)
    except Exception as exc:
        if db_errors.translate(exc, committing=True, closed=conn.is_closed()) is not None:
            # the database failed under the statement, which may have committed: each member
            # answers so (outcome unknown), none registers again as if nothing happened
            return [exc] * len(members)
        raise  # the statement failed (nothing was written): each member registers alone


async def _batch(conn: Connection, members: list[Member]) -> list[Any]:
    if len(members) == 1:  # the plain one-statement path (while it runs, the next gather)
        return [await _alone(conn, members[0])]
    outcomes: list[Any] = [ALONE] * len(members)
    seen: set[str] = set()
    chosen: list[int] = []
    for i, m in enumerate(members):
        email = m.fields["email"].lower()
        if email not in seen:  # a second of one email goes alone: already-registered, or not
            seen.add(email)
            chosen.append(i)
    target, online = members[0].target, bool(members[0].fields["online_place"])
    free = target["free_online_shards" if online else "free_shards"]
    room = max(int(target["online_shard_room" if online else "shard_room"] or 1), 1)
    shards = min(len(free), math.ceil(len(chosen) / room) + 1)
    created, slots = await surge_q.insert_batch(
        conn,
        target["id"],
        online,
        target["version"],
        shards,
        [(members[i].fields, members[i].now) for i in chosen],
    )
    by_email = {r["email"]: r for r in created}
    for k, i in enumerate(chosen):
        found = by_email.get(members[i].fields["email"])
        if found is not None:
            outcomes[i] = found
        elif k < slots:
            outcomes[i] = AlreadyRegistered()
    return outcomes


async def _alone(conn: Connection, m: Member) -> Any:
    shard = random.choice(
        m.target["free_online_shards" if m.fields["online_place"] else "free_shards"]
    )
    try:
        created = await q.insert_confirmed(
            conn, m.target["id"], shard, m.fields, m.now, version=m.target["version"]
        )
    except asyncpg.UniqueViolationError:
        return AlreadyRegistered()
    return CHANGED if created is None else created


_gatherer: gather.Gatherer[Member] = gather.Gatherer(_run, most=MOST)


async def register(conn: Connection, target: Row, fields: dict[str, Any], now: datetime) -> Any:
    """The confirmed row; ALONE (register by the one-statement path), CHANGED (the shard tried
    is full or the event changed: read it again); raises AlreadyRegistered."""
    key = (target["id"], bool(fields["online_place"]), target["version"])
    return await _gatherer.submit(conn, key, Member(target, fields, now))


def counts() -> tuple[int, int]:
    """Batches run in this process and their members."""
    return _gatherer.batches, _gatherer.members
