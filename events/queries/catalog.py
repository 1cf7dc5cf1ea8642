"""SQL of catalog.py: events and sessions."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from events.queries import Connection, Row, row, rows

_EVENT = (
    "SELECT e.id, e.seq, e.slug, e.owner_id, e.title, e.description, e.timezone, e.starts_at,"
    " e.ends_at, e.venue_name, e.venue_address, e.capacity, e.waitlist, e.visibility, e.status,"
    " e.reentry,"
    " e.registration_opens_at, e.registration_closes_at, e.questions, e.translations, e.revision,"
    " e.approval, e.invite_only, e.format, e.online_url, e.online_instructions,"
    " e.online_reveal_before, e.online_capacity,"
    " e.created_at, e.updated_at, e.published_at, e.cancelled_at, e.calendar_replies,"
    " e.edits_close_at, e.reminders, e.cancel_reason,"
    " e.retention_days, e.consent_text, e.privacy_url,"
    " h.host_ids, h.host_slugs, h.host_roles"
    " FROM events e CROSS JOIN LATERAL ("
    "   SELECT array_agg(hp.id ORDER BY eh.role = 'owner' DESC, eh.added_at) AS host_ids,"
    "   array_agg(hp.slug ORDER BY eh.role = 'owner' DESC, eh.added_at) AS host_slugs,"
    "   array_agg(eh.role ORDER BY eh.role = 'owner' DESC, eh.added_at) AS host_roles"
    "   FROM event_hosts eh JOIN partners hp ON hp.id = eh.partner_id"
    "   WHERE eh.event_id = e.id) h"
)

EVENT_COLUMNS = (
    "title",
    "description",
    "timezone",
    "starts_at",
    "ends_at",
    "venue_name",
    "venue_address",
    "capacity",
    "waitlist",
    "reentry",
    "visibility",
    "registration_opens_at",
    "registration_closes_at",
    "questions",
    "approval",
    "invite_only",
    "edits_close_at",
    "reminders",
    "translations",
    "calendar_replies",
    "retention_days",
    "consent_text",
    "privacy_url",
    "format",
    "online_url",
    "online_instructions",
    "online_reveal_before",
    "online_capacity",
)


async def insert_event(
    conn: Connection, owner_id: UUID, slug: str, fields: dict[str, Any]
) -> UUID | None:
    """Insert an event; None when the slug is taken."""
    columns = ", ".join(EVENT_COLUMNS)
    params = ", ".join(f"${i}" for i in range(3, len(EVENT_COLUMNS) + 3))
    value: UUID | None = await conn.fetchval(
        f"INSERT INTO events (owner_id, slug, {columns}) VALUES ($1, $2, {params})"
        " ON CONFLICT (slug) DO NOTHING RETURNING id",
        owner_id,
        slug,
        *(fields[c] for c in EVENT_COLUMNS),
    )
    return value


async def event(conn: Connection, event_id: UUID, *, lock: bool = False) -> Row | None:
    if lock:
        await conn.execute("SELECT 1 FROM events WHERE id = $1 FOR UPDATE", event_id)
    return row(await conn.fetchrow(_EVENT + " WHERE e.id = $1", event_id))


async def event_by_slug(conn: Connection, slug: str) -> Row | None:
    return row(await conn.fetchrow(_EVENT + " WHERE e.slug = $1", slug))


async def public_events(conn: Connection, *, after_seq: int, limit: int) -> list[Row]:
    return rows(
        await conn.fetch(
            _EVENT + " WHERE e.status = 'published' AND e.visibility = 'public'"
            " AND e.seq > $1 ORDER BY e.seq LIMIT $2",
            after_seq,
            limit,
        )
    )


async def upcoming_events(conn: Connection, now: datetime, limit: int) -> list[Row]:
    """Published public events not yet over, soonest first."""
    return rows(
        await conn.fetch(
            _EVENT + " WHERE e.status = 'published' AND e.visibility = 'public'"
            " AND e.ends_at > $1 ORDER BY e.starts_at, e.seq LIMIT $2",
            now,
            limit,
        )
    )


async def hosted_events(
    conn: Connection, partner_id: UUID, *, after_seq: int, limit: int
) -> list[Row]:
    return rows(
        await conn.fetch(
            _EVENT + " WHERE e.id IN (SELECT event_id FROM event_hosts WHERE partner_id = $1)"
            " AND e.seq > $2 ORDER BY e.seq LIMIT $3",
            partner_id,
            after_seq,
            limit,
        )
    )


async def update_event(
    conn: Connection, event_id: UUID, changes: dict[str, Any], *, bump_revision: bool, now: datetime
) -> None:
    assert all(c in EVENT_COLUMNS for c in changes)
    sets = [f"{c} = ${i}" for i, c in enumerate(changes, start=3)]
    sets.append("updated_at = $2")
    if bump_revision:
        sets.append("revision = revision + 1")
    await conn.execute(
        f"UPDATE events SET {', '.join(sets)} WHERE id = $1", event_id, now, *changes.values()
    )


async def set_slug(conn: Connection, event_id: UUID, slug: str) -> None:
    await conn.execute("UPDATE events SET slug = $2 WHERE id = $1", event_id, slug)


async def set_status(conn: Connection, event_id: UUID, status: str, now: datetime) -> None:
    """Publish or cancel; cancelling raises the revision (calendar SEQUENCE)."""
    await conn.execute(
        "UPDATE events SET status = $2, updated_at = $3,"
        " published_at = CASE WHEN $2 = 'published' THEN $3 ELSE published_at END,"
        " cancelled_at = CASE WHEN $2 = 'cancelled' THEN $3 ELSE cancelled_at END,"
        " revision = revision + (CASE WHEN $2 = 'cancelled' THEN 1 ELSE 0 END)"
        " WHERE id = $1",
        event_id,
        status,
        now,
    )


async def set_cancel_reason(conn: Connection, event_id: UUID, reason: str | None) -> None:
    await conn.execute("UPDATE events SET cancel_reason = $2 WHERE id = $1", event_id, reason)


_SESSION_COLUMNS = "id, event_id, title, starts_at, ends_at, room, capacity, translations"
_SESSION = f"SELECT {_SESSION_COLUMNS} FROM sessions"


async def insert_session(conn: Connection, event_id: UUID, fields: dict[str, Any]) -> Row:
    record = await conn.fetchrow(
        "INSERT INTO sessions (event_id, title, starts_at, ends_at, room, capacity, translations)"
        f" VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING {_SESSION_COLUMNS}",
        event_id,
        fields["title"],
        fields["starts_at"],
        fields["ends_at"],
        fields["room"],
        fields["capacity"],
        fields.get("translations", {}),
    )
    assert record is not None
    return dict(record)


async def sessions_of(conn: Connection, event_ids: list[UUID]) -> list[Row]:
    return rows(await conn.fetch(_SESSION + " WHERE event_id = ANY($1) ORDER BY seq", event_ids))


async def session(conn: Connection, session_id: UUID, event_id: UUID) -> Row | None:
    return row(
        await conn.fetchrow(_SESSION + " WHERE id = $1 AND event_id = $2", session_id, event_id)
    )


async def update_session(conn: Connection, session_id: UUID, changes: dict[str, Any]) -> Row | None:
    allowed = ("title", "starts_at", "ends_at", "room", "capacity", "translations")
    assert all(c in allowed for c in changes)
    sets = ", ".join(f"{c} = ${i}" for i, c in enumerate(changes, start=2))
    return row(
        await conn.fetchrow(
            f"UPDATE sessions SET {sets} WHERE id = $1 RETURNING {_SESSION_COLUMNS}",
            session_id,
            *changes.values(),
        )
    )


async def bump_revision(conn: Connection, event_id: UUID, now: datetime) -> None:
    await conn.execute(
        "UPDATE events SET revision = revision + 1, updated_at = $2 WHERE id = $1", event_id, now
    )
