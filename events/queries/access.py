"""SQL of access.py: access codes, and storing a registration admitted by a code, an
invitation or for approval (the registration's columns as registration.py returns them)."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from events.queries import Connection, Row, row, rows
from events.queries.registration import LOGGED, RETURNING

_CODE = "id, seq, event_id, code, uses, max_uses, expires_at, skip_approval, revoked_at, created_at"


async def insert_code(
    conn: Connection, event_id: UUID, fields: dict[str, Any], now: datetime
) -> Row | None:
    """A new code; None when the event has that code already (compared case-insensitively)."""
    return row(
        await conn.fetchrow(
            "INSERT INTO access_codes (event_id, code, max_uses, expires_at, skip_approval,"
            " created_at) VALUES ($1, $2, $3, $4, $5, $6)"
            f" ON CONFLICT (event_id, upper(code)) DO NOTHING RETURNING {_CODE}",
            event_id,
            fields["code"],
            fields["max_uses"],
            fields["expires_at"],
            fields["skip_approval"],
            now,
        )
    )


async def codes_of(conn: Connection, event_id: UUID, *, after_seq: int, limit: int) -> list[Row]:
    return rows(
        await conn.fetch(
            f"SELECT {_CODE} FROM access_codes WHERE event_id = $1 AND seq > $2"
            " ORDER BY seq LIMIT $3",
            event_id,
            after_seq,
            limit,
        )
    )


async def revoke_code(conn: Connection, code_id: UUID, event_id: UUID, now: datetime) -> Row | None:
    return row(
        await conn.fetchrow(
            "UPDATE access_codes SET revoked_at = coalesce(revoked_at, $3)"
            f" WHERE id = $1 AND event_id = $2 RETURNING {_CODE}",
            code_id,
            event_id,
            now,
        )
    )


async def use_code(conn: Connection, event_id: UUID, code: str, now: datetime) -> Row | None:
    """Count one use of a live code (locks its row until the transaction ends); None when the
    code is unknown, revoked, expired or used up. Waiters re-check `uses < max_uses` on the
    row as the previous user left it, and the table's CHECK stands behind that."""
    return row(
        await conn.fetchrow(
            "UPDATE access_codes SET uses = uses + 1 WHERE event_id = $1 AND upper(code) = upper($2)"
            " AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > $3)"
            " AND (max_uses IS NULL OR uses < max_uses) RETURNING id, skip_approval",
            event_id,
            code,
            now,
        )
    )


_COLUMNS = (
    "event_id, name, email, locale, answers, approval_needed, access_code_id, guest_id,"
    " attendance, online_place, created_at, updated_at"
)


#: What the person gave beside name and email: their Chinese name, its search key (names.py),
#: and the consent text they accepted (privacy.py), with its time.
_PERSON = "chinese_name, search_key, consent, consent_at"


def _person(fields: dict[str, Any]) -> list[Any]:
    return [fields.get("chinese_name"), fields.get("search_key") or "", fields.get("consent")]


def _values(event_id: UUID, fields: dict[str, Any], extra: dict[str, Any]) -> list[Any]:
    return [
        event_id,
        fields["name"],
        fields["email"],
        fields["locale"],
        fields["answers"],
        extra["approval_needed"],
        extra["access_code_id"],
        extra["guest_id"],
        fields["attendance"],
        fields["online_place"],
    ]


async def insert_seated(
    conn: Connection,
    event_id: UUID,
    shard: int,
    fields: dict[str, Any],
    *,
    extra: dict[str, Any],
    status: str,
    now: datetime,
) -> Row | None:
    """Take a seat of `shard` and insert the registration with `status` (confirmed, or
    pending: holding the seat) in one statement; None when the shard is full."""
    return row(
        await conn.fetchrow(
            "WITH seat AS (UPDATE seat_shards SET confirmed = confirmed + 1"
            "   WHERE event_id = $1 AND shard = $12 AND confirmed < capacity RETURNING shard),"
            f" created AS (INSERT INTO registrations ({_COLUMNS}, status, shard, confirmed_at,"
            f" {_PERSON})"
            " SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11, $13, seat.shard,"
            " CASE WHEN $13 = 'confirmed' THEN $11::timestamptz END,"
            " $14, $15, $16::text, CASE WHEN $16::text IS NULL THEN NULL ELSE $11::timestamptz END"
            " FROM seat " + RETURNING + ")" + LOGGED,
            *_values(event_id, fields, extra),
            now,
            shard,
            status,
            *_person(fields),
        )
    )


async def insert_unseated(
    conn: Connection,
    event_id: UUID,
    fields: dict[str, Any],
    *,
    extra: dict[str, Any],
    status: str,
    now: datetime,
) -> Row:
    """Insert a registration without a seat: pending (screened) or waitlisted."""
    record = await conn.fetchrow(
        f"WITH created AS (INSERT INTO registrations ({_COLUMNS}, status, waitlist_order,"
        f" {_PERSON})"
        " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11, $12,"
        " CASE WHEN $12 = 'waitlisted' THEN nextval('registrations_waitlist_order') END,"
        " $13, $14, $15::text, CASE WHEN $15::text IS NULL THEN NULL ELSE $11::timestamptz END) "
        + RETURNING
        + ")"
        + LOGGED,
        *_values(event_id, fields, extra),
        now,
        status,
        *_person(fields),
    )
    assert record is not None
    return dict(record)
