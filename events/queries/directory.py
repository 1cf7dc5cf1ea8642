"""SQL of directory.py: partners found by name."""

from __future__ import annotations

from events.queries import Connection, Row, rows


async def partners(conn: Connection, limit: int) -> list[Row]:
    return rows(
        await conn.fetch(
            "SELECT slug, name FROM partners ORDER BY lower(name), seq LIMIT $1", limit
        )
    )


async def by_name_or_slug(conn: Connection, text: str) -> list[Row]:
    """Partners whose name (case-insensitive) or slug is exactly `text`."""
    return rows(
        await conn.fetch(
            "SELECT slug, name FROM partners WHERE lower(name) = lower($1) OR slug = lower($1)"
            " ORDER BY slug = lower($1) DESC, seq LIMIT 2",
            text,
        )
    )
