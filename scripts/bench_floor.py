"""The floor of `scripts/bench`: the thinnest registration endpoint this stack allows.

`POST /floor` is exactly the floor PERFORMANCE.md defines: uvicorn + Starlette + msgspec + one
asyncpg `INSERT INTO floor_registrations (email, name, code) VALUES ($1, $2, $3) RETURNING id`
into a plain table (bigserial key, no other index, no trigger), same workers, same database.
Every ratio the bench reports is to this one.

`POST /floor-same-table` is a heavier floor shown beside it, never instead: the same endpoint
inserting into the service's own `registrations` table (its indexes, foreign key and mail
trigger), which tells how much of the gap is that table's write set rather than our code.

Run by scripts/bench as `uvicorn bench_floor:app --app-dir scripts --workers N` with
DATABASE_URL and BENCH_FLOOR_EVENT (a published event the same-table rows belong to).
"""

from __future__ import annotations

import contextlib
import os
import secrets
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


PLAIN_TABLE = (
    "CREATE TABLE IF NOT EXISTS floor_registrations ("
    " id bigserial PRIMARY KEY, email text NOT NULL, name text NOT NULL, code text NOT NULL)"
)
PLAIN_INSERT = (
    "INSERT INTO floor_registrations (email, name, code) VALUES ($1, $2, $3) RETURNING id"
)
SAME_TABLE_INSERT = (
    "INSERT INTO registrations (event_id, name, email, locale, answers, status, shard,"
    " created_at, confirmed_at, updated_at)"
    " VALUES ($1, $2, $3, 'en', '{}', 'confirmed', 0, now(), now(), now()) RETURNING id, seq"
)

pool: Any = None
decoder = msgspec.json.Decoder(FloorIn)


async def plain(request: Request) -> Response:
    body = decoder.decode(await request.body())
    async with pool.acquire() as conn:
        record = await conn.fetchrow(PLAIN_INSERT, body.email, body.name, secrets.token_hex(8))
    return Response(msgspec.json.encode({"id": record["id"]}), 201, media_type="application/json")


async def same_table(request: Request) -> Response:
    body = decoder.decode(await request.body())
    async with pool.acquire() as conn:
        record = await conn.fetchrow(SAME_TABLE_INSERT, EVENT, body.name, body.email)
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
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock(7270)")  # workers start together
        await conn.execute(PLAIN_TABLE)
    try:
        yield
    finally:
        await pool.close()


EVENT = os.environ.get("BENCH_FLOOR_EVENT", "")
app = Starlette(
    routes=[
        Route("/floor", plain, methods=["POST"]),
        Route("/floor-same-table", same_table, methods=["POST"]),
    ],
    lifespan=lifespan,
)
