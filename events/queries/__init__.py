"""Every SQL statement of the service, one module per domain module, one function each.

Functions take the asyncpg connection first and `$n` parameters; records never leave here:
they come back as plain dicts (or scalars), so the domain modules don't depend on asyncpg.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeAlias

import asyncpg

if TYPE_CHECKING:
    Connection: TypeAlias = asyncpg.Connection[Any]
else:
    Connection = asyncpg.Connection
Row = dict[str, Any]


def row(record: asyncpg.Record | None) -> Row | None:
    return None if record is None else dict(record)


def rows(records: list[asyncpg.Record]) -> list[Row]:
    return [dict(r) for r in records]
