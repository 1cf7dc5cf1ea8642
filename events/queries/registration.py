"""SQL of registration.py: seats, registrations, the waitlist."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from events.names import fold
from events.queries import Connection, Row, row, rows
from events.queries.audit import AUDIT_COLUMNS

SHARDS = 16

#: `?q=`: a piece of the folded names (events/names.py: 陈大文 finds 陳大文, "chan tai man"
#: finds 陳大文), or of the name or email as written
NAME_MATCH = (
    "({q}::text IS NULL OR strpos(r.search_key, {key}::text) > 0"
    " OR strpos(lower(r.name), lower({q})) > 0 OR strpos(lower(r.email), lower({q})) > 0)"
)


async def insert_shards(conn: Connection, event_id: UUID, capacities: list[int]) -> None:
    await conn.execute(
        "INSERT INTO seat_shards (event_id, shard, capacity)"
        " SELECT $1, (n - 1)::smallint, c FROM unnest($2::int[]) WITH ORDINALITY AS t(c, n)",
        event_id,
        capacities,
    )


async def lock_shards(conn: Connection, event_id: UUID, *, online: bool = False) -> list[Row]:
    """The seats in the room (or a hybrid event's online places), locked."""
    return rows(
        await conn.fetch(
            "SELECT shard, capacity, confirmed FROM seat_shards WHERE event_id = $1"
            " AND (shard >= 16) = $2 ORDER BY shard FOR UPDATE",
            event_id,
            online,
        )
    )


async def set_shard_capacities(conn: Connection, event_id: UUID, capacities: list[int]) -> None:
    await conn.execute(
        "UPDATE seat_shards s SET capacity = t.c FROM unnest($2::int[]) WITH ORDINALITY AS t(c, n)"
        " WHERE s.event_id = $1 AND s.shard = t.n - 1",
        event_id,
        capacities,
    )


async def registration_target(conn: Connection, event_id: UUID) -> Row | None:
    """What registering needs to know of an event, its version, and its shards with a free
    seat (in random order), in one read."""
    return row(
        await conn.fetchrow(
            "SELECT e.id, e.version, e.status, e.waitlist, e.starts_at, e.registration_opens_at,"
            " e.registration_closes_at, e.questions, e.timezone, e.visibility, e.approval,"
            " e.invite_only, e.consent_text, e.format,"
            " coalesce(array(SELECT s.id FROM sessions s WHERE s.event_id = e.id), '{}')"
            "   AS session_ids,"
            f" {_SEATS} FROM events e WHERE e.id = $1",
            event_id,
        )
    )


#: The seats of an event `e` as they are now: its shards with a free seat (in random order:
#: spreads concurrent takers) and the most seats one shard has left, in the room and online.
_SEATS = (
    "array(SELECT shard FROM seat_shards WHERE event_id = e.id AND confirmed < capacity"
    "   AND shard < 16 ORDER BY random()) AS free_shards,"
    " array(SELECT shard FROM seat_shards WHERE event_id = e.id AND confirmed < capacity"
    "   AND shard >= 16 ORDER BY random()) AS free_online_shards,"
    " (SELECT max(capacity - confirmed) FROM seat_shards WHERE event_id = e.id"
    "   AND shard < 16) AS shard_room,"
    " (SELECT max(capacity - confirmed) FROM seat_shards WHERE event_id = e.id"
    "   AND shard >= 16) AS online_shard_room"
)


async def seats_now(conn: Connection, event_id: UUID) -> Row | None:
    """An event's version and its seats now (registration_target's seat columns)."""
    return row(
        await conn.fetchrow(f"SELECT e.version, {_SEATS} FROM events e WHERE e.id = $1", event_id)
    )


#: Every column of a registration, so a fresh one needs no second read.
RETURNING = (
    "RETURNING id, seq, event_id, name, chinese_name, email, locale, answers, status, shard,"
    " ticket_version,"
    " created_at, confirmed_at, cancelled_at, cancelled_by, updated_at, attendance, online_place,"
    " joined_at, consent, consent_at"
)


#: The registration.created audit entry (audit.py), written by the registration's own
#: statement: registering stays one statement and one round trip.
LOG_CREATED = (
    ", logged AS (INSERT INTO audit_log" + AUDIT_COLUMNS + " SELECT c.created_at, c.event_id,"
    " 'attendee', c.id::text, c.name, 'registration.created', 'registration', c.id::text,"
    " jsonb_build_object('status', jsonb_build_array(NULL, c.status),"
    "   'name', jsonb_build_array(NULL, c.name), 'email', jsonb_build_array(NULL, c.email))"
    " FROM created c)"
)
LOGGED = LOG_CREATED + " SELECT * FROM created"

_INSERT_CONFIRMED = (
    ", created AS (INSERT INTO registrations (event_id, name, email, locale, answers, status,"
    "   shard, created_at, confirmed_at, updated_at, chinese_name, search_key, attendance,"
    "   online_place, consent, consent_at)"
    " SELECT $1, $3, $4, $5, $6, 'confirmed', seat.shard, $7, $7, $7, $8, $9, $10, $11,"
    "   $12::text, CASE WHEN $12::text IS NULL THEN NULL ELSE $7::timestamptz END FROM seat "
    + RETURNING
    + ")"
    + LOGGED
)


async def insert_confirmed(
    conn: Connection,
    event_id: UUID,
    shard: int,
    fields: dict[str, Any],
    now: datetime,
    *,
    version: int | None = None,
) -> Row | None:
    """Take a seat from `shard` and insert the registration, in one statement; None when that
    shard has no seat left, or, given `version`, when the event is no longer at that version.
    A duplicate email raises UniqueViolationError (nothing taken)."""
    seat = (
        "WITH seat AS (UPDATE seat_shards SET confirmed = confirmed + 1"
        "   WHERE event_id = $1 AND shard = $2 AND confirmed < capacity RETURNING shard)"
        if version is None
        else "WITH seat AS (UPDATE seat_shards SET confirmed = confirmed + 1"
        "   WHERE event_id = $1 AND shard = $2 AND confirmed < capacity"
        "   AND (SELECT version FROM events WHERE id = $1) = $13 RETURNING shard)"
    )
    values = [event_id, shard, fields["name"], fields["email"], fields["locale"]]
    values += [fields["answers"], now, fields["chinese_name"], fields["search_key"]]
    values += [fields["attendance"], fields["online_place"], fields.get("consent")]
    values += [] if version is None else [version]
    return row(await conn.fetchrow(seat + _INSERT_CONFIRMED, *values))


async def insert_waitlisted(
    conn: Connection, event_id: UUID, fields: dict[str, Any], now: datetime
) -> Row:
    """A waitlisted registration, its place numbered and committed under the event's waitlist
    lock: every place before it is committed when its own is, so the place read next is its
    true one (two answers never show the same place)."""
    async with conn.transaction():
        await lock_waitlist(conn, event_id)
        return await _insert_waitlisted(conn, event_id, fields, now)


async def lock_waitlist(conn: Connection, event_id: UUID) -> None:
    await conn.execute(
        "SELECT pg_advisory_xact_lock(hashtextextended('waitlist ' || $1::uuid::text, 0))", event_id
    )


async def _insert_waitlisted(
    conn: Connection, event_id: UUID, fields: dict[str, Any], now: datetime
) -> Row:
    record = await conn.fetchrow(
        "WITH created AS (INSERT INTO registrations (event_id, name, email, locale, answers,"
        "   status, waitlist_order, created_at, updated_at, chinese_name, search_key, attendance,"
        "   online_place, consent, consent_at)"
        " VALUES ($1, $2, $3, $4, $5, 'waitlisted', nextval('registrations_waitlist_order'), $6,"
        "   $6, $7, $8, $9, $10, $11::text,"
        "   CASE WHEN $11::text IS NULL THEN NULL ELSE $6::timestamptz END) "
        + RETURNING
        + ")"
        + LOGGED,
        event_id,
        fields["name"],
        fields["email"],
        fields["locale"],
        fields["answers"],
        now,
        fields["chinese_name"],
        fields["search_key"],
        fields["attendance"],
        fields["online_place"],
        fields.get("consent"),
    )
    assert record is not None
    return dict(record)


async def insert_sessions(conn: Connection, registration_id: UUID, session_ids: list[UUID]) -> None:
    await conn.execute(
        "INSERT INTO registration_sessions (registration_id, session_id)"
        " SELECT $1, unnest($2::uuid[]) ON CONFLICT DO NOTHING",
        registration_id,
        session_ids,
    )


async def claim_session_seats(conn: Connection, session_ids: list[UUID]) -> list[UUID]:
    """Take one seat in each session that has one; returns the sessions that had one."""
    return [
        r["id"]
        for r in await conn.fetch(
            "UPDATE sessions SET confirmed = confirmed + 1"
            " WHERE id = ANY($1) AND (capacity IS NULL OR confirmed < capacity) RETURNING id",
            session_ids,
        )
    ]


async def release_session_seats(conn: Connection, registration_id: UUID) -> None:
    await conn.execute(
        "UPDATE sessions SET confirmed = confirmed - 1 WHERE id IN"
        " (SELECT session_id FROM registration_sessions WHERE registration_id = $1)",
        registration_id,
    )


async def drop_sessions(conn: Connection, registration_id: UUID, session_ids: list[UUID]) -> None:
    await conn.execute(
        "DELETE FROM registration_sessions WHERE registration_id = $1 AND session_id = ANY($2)",
        registration_id,
        session_ids,
    )


_REGISTRATION = (
    "SELECT r.id, r.seq, r.event_id, r.name, r.chinese_name, r.email, r.locale, r.answers,"
    " r.status, r.shard,"
    " r.ticket_version, r.created_at, r.confirmed_at, r.cancelled_at, r.cancelled_by, r.updated_at,"
    " r.approval_needed, r.rejection_reason, r.decided_at, r.access_code_id, r.guest_id,"
    " r.accepted_at, r.calendar_reply, r.consent, r.consent_at, r.erased_at,"
    " r.attendance, r.online_place, r.joined_at,"
    " CASE WHEN r.status = 'waitlisted' THEN (SELECT count(*) FROM registrations w"
    "   WHERE w.event_id = r.event_id AND w.status = 'waitlisted'"
    "   AND w.online_place = r.online_place"
    "   AND w.waitlist_order <= r.waitlist_order) END AS waitlist_position,"
    " coalesce((SELECT array_agg(rs.session_id ORDER BY s.seq) FROM registration_sessions rs"
    "   JOIN sessions s ON s.id = rs.session_id WHERE rs.registration_id = r.id), '{}') AS session_ids"
    " FROM registrations r"
)


async def registration(
    conn: Connection, registration_id: UUID, *, lock: bool = False
) -> Row | None:
    if lock:
        await conn.execute("SELECT 1 FROM registrations WHERE id = $1 FOR UPDATE", registration_id)
    return row(await conn.fetchrow(_REGISTRATION + " WHERE r.id = $1", registration_id))


async def event_registrations(
    conn: Connection,
    event_id: UUID,
    *,
    status: str | None,
    q: str | None,
    after_seq: int,
    limit: int,
) -> list[Row]:
    return rows(
        await conn.fetch(
            _REGISTRATION + " WHERE r.event_id = $1 AND ($2::text IS NULL OR r.status = $2)"
            f" AND {NAME_MATCH.format(q='$3', key='$6')}"
            " AND r.seq > $4 ORDER BY r.seq LIMIT $5",
            event_id,
            status,
            q,
            after_seq,
            limit,
            None if q is None else fold(q),
        )
    )


async def set_cancelled(conn: Connection, registration_id: UUID, now: datetime, by: str) -> None:
    await conn.execute(
        "UPDATE registrations SET status = 'cancelled', shard = NULL, waitlist_order = NULL,"
        " cancelled_at = $2, cancelled_by = $3, updated_at = $2 WHERE id = $1",
        registration_id,
        now,
        by,
    )


async def release_seat(conn: Connection, event_id: UUID, shard: int) -> None:
    await conn.execute(
        "UPDATE seat_shards SET confirmed = confirmed - 1 WHERE event_id = $1 AND shard = $2",
        event_id,
        shard,
    )


async def waitlist_head(
    conn: Connection, event_id: UUID, count: int, *, online: bool = False
) -> list[UUID]:
    """The first `count` waitlisted registrations for a seat in the room (or for a hybrid
    event's online places), locked (skipping any being changed now)."""
    return [
        r["id"]
        for r in await conn.fetch(
            "SELECT id FROM registrations WHERE event_id = $1 AND status = 'waitlisted'"
            " AND online_place = $3 ORDER BY waitlist_order LIMIT $2 FOR UPDATE SKIP LOCKED",
            event_id,
            count,
            online,
        )
    ]


async def has_free_seat(conn: Connection, event_id: UUID, *, online: bool = False) -> bool:
    return bool(
        await conn.fetchval(
            "SELECT EXISTS (SELECT 1 FROM seat_shards WHERE event_id = $1 AND confirmed < capacity"
            "   AND (shard >= 16) = $2)"
            " AND EXISTS (SELECT 1 FROM registrations WHERE event_id = $1 AND status = 'waitlisted'"
            "   AND online_place = $2)",
            event_id,
            online,
        )
    )


async def move_to_front(conn: Connection, registration_id: UUID, event_id: UUID) -> None:
    await conn.execute(
        "UPDATE registrations SET waitlist_order = (SELECT min(waitlist_order) - 1"
        "   FROM registrations WHERE event_id = $2 AND status = 'waitlisted')"
        " WHERE id = $1 AND status = 'waitlisted'",
        registration_id,
        event_id,
    )


async def counts(conn: Connection, event_id: UUID) -> Row:
    record = await conn.fetchrow(
        "SELECT count(*) FILTER (WHERE status = 'confirmed') AS confirmed,"
        " count(*) FILTER (WHERE status = 'waitlisted') AS waitlisted,"
        " count(*) FILTER (WHERE status = 'cancelled') AS cancelled,"
        " count(*) FILTER (WHERE status = 'pending') AS pending,"
        " count(*) FILTER (WHERE status = 'rejected') AS rejected,"
        " count(*) FILTER (WHERE joined_at IS NOT NULL AND status = 'confirmed') AS joined,"
        " count(*) FILTER (WHERE status = 'confirmed' AND attendance = 'online')"
        "   AS online_confirmed,"
        " count(*) FILTER (WHERE status = 'waitlisted' AND attendance = 'online')"
        "   AS online_waitlisted"
        " FROM registrations WHERE event_id = $1",
        event_id,
    )
    assert record is not None
    return dict(record)


async def session_confirmed(conn: Connection, session_id: UUID) -> int:
    return int(
        await conn.fetchval("SELECT confirmed FROM sessions WHERE id = $1 FOR UPDATE", session_id)
    )


async def secret(conn: Connection, name: str, candidate: bytes) -> bytes:
    await conn.execute(
        "INSERT INTO server_secrets (name, secret) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING",
        name,
        candidate,
    )
    return bytes(await conn.fetchval("SELECT secret FROM server_secrets WHERE name = $1", name))
