"""The bench's database: a fresh one per run, and reading what the service stored."""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from benchkit.common import LOCAL_SERVER


async def _can_connect(url: str) -> bool:
    import asyncpg

    try:
        conn = await asyncio.wait_for(asyncpg.connect(url), 3)
    except Exception:
        return False
    await conn.close()
    return True


async def _sql(url: str, statement: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(url)
    try:
        await conn.execute(statement)
    finally:
        await conn.close()


@contextlib.contextmanager
def fresh_database(keep: bool) -> Iterator[tuple[str, str]]:
    """(url, where): a new database on DATABASE_URL's server, the local one, or embedded."""
    server = os.environ.get("DATABASE_URL") or None
    if server is None and asyncio.run(_can_connect(LOCAL_SERVER)):
        server = LOCAL_SERVER
    if server is None:
        from events.embedded import EmbeddedPostgres

        with tempfile.TemporaryDirectory(prefix="events-bench-") as folder:
            os.chmod(folder, 0o755)
            embedded = EmbeddedPostgres(Path(folder))
            try:
                yield embedded.start(), "embedded"
            finally:
                embedded.stop()
        return
    name = f"events_bench_{os.getpid()}_{secrets.token_hex(3)}"
    asyncio.run(_sql(server, f'CREATE DATABASE "{name}"'))
    base = server.rpartition("/")[0]
    try:
        yield f"{base}/{name}", server.rpartition("@")[2].rpartition("/")[0]
    finally:
        if not keep:
            asyncio.run(_sql(server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


async def _fetch(url: str, query: str, *args: Any) -> list[dict[str, Any]]:
    import asyncpg

    conn = await asyncpg.connect(url)
    try:
        return [dict(r) for r in await conn.fetch(query, *args)]
    finally:
        await conn.close()


def db_rows(url: str, query: str, *args: Any) -> list[dict[str, Any]]:
    return asyncio.run(_fetch(url, query, *args))


def create_partner(url: str) -> str:
    """A partner made directly in the database (as `python -m events partner create` does)."""
    import asyncpg

    from events import hosting

    async def work() -> str:
        conn = await asyncpg.connect(url)
        try:
            async with conn.transaction():
                made = await hosting.create_partner(
                    conn, f"bench-{secrets.token_hex(3)}", "Bench", None
                )
            return made.token
        finally:
            await conn.close()

    return asyncio.run(work())
