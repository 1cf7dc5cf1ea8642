"""The floor of `scripts/bench`: the thinnest registration endpoint this stack allows.

uvicorn + Starlette + msgspec + one asyncpg INSERT into the same `registrations` table of the
same database, with no capacity check, no auth and no rendering. Whatever the real endpoint
costs beyond this is ours to explain. Run by scripts/bench as
`uvicorn bench_floor:app --app-dir scripts --workers N` with DATABASE_URL and
BENCH_FLOOR_EVENT (the id of a published event the rows belong to) in the environment.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import msgspec
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route


class FloorIn(msgspec.Struct):
    name: str
    email: str


INSERT = (
    "INSERT INTO registrations (event_id, name, email, locale, answers, status, shard,"
    " created_at, confirmed_at, updated_at)"
    " VALUES ($1, $2, $3, 'en', '{}', 'confirmed', 0, now(), now(), now()) RETURNING id, seq"
)

pool: Any = None
decoder = msgspec.json.Decoder(FloorIn)


async def insert(request: Request) -> Response:
    body = decoder.decode(await request.body())
    async with pool.acquire() as conn:
        record = await conn.fetchrow(INSERT, EVENT, body.name, body.email)
    return Response(
        msgspec.json.encode({"id": str(record["id"]), "seq": record["seq"]}),
        201,
        media_type="application/json",
    )


@contextlib.asynccontextmanager
async def lifespan(app: Starlette) -> AsyncIterator[None]:
    global pool
    size = int(os.environ.get("EVENTS_DB_POOL_SIZE") or 20)
    pool = await asyncpg.create_pool(os.environ["DATABASE_URL"], min_size=1, max_size=size)
    try:
        yield
    finally:
        await pool.close()


EVENT = os.environ.get("BENCH_FLOOR_EVENT", "")
app = Starlette(routes=[Route("/floor", insert, methods=["POST"])], lifespan=lifespan)
