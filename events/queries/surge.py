"""SQL of surge.py: a batch of registrations of one event, in one statement."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from msgspec import json

from events.queries import Connection, Row
from events.queries.registration import LOG_CREATED, RETURNING

#: A batch of registrations (surge.py) in one statement: seats of up to $4 shards with room
#: (locked, those another batch holds skipped), numbered into slots; the k-th registration of
#: the batch takes slot k; a duplicate email is skipped (ON CONFLICT), and only the seats of
#: the rows inserted are counted. The last column, `slots`, says how many there were: the
#: members past it had no seat here (NULL row when nothing was inserted).
_INSERT_BATCH = (
    "WITH locked AS (SELECT shard, capacity - confirmed AS room FROM seat_shards"
    "   WHERE event_id = $1 AND confirmed < capacity AND (shard >= 16) = $2"
    "   AND (SELECT version FROM events WHERE id = $1) = $3"
    "   ORDER BY random() LIMIT $4 FOR UPDATE SKIP LOCKED),"
    " slots AS (SELECT l.shard, row_number() OVER (ORDER BY l.shard, n) AS slot"
    "   FROM locked l, generate_series(1, least(l.room, cardinality($5::text[]))) AS n),"
    " input AS (SELECT * FROM unnest($5::text[], $6::text[], $7::text[], $8::text[],"
    "   $9::text[], $10::text[], $11::text[], $12::text[], $13::timestamptz[])"
    "   WITH ORDINALITY AS i(name, email, locale, answers, chinese_name, search_key, attendance,"
    "   consent, at, slot)),"
    " created AS (INSERT INTO registrations (event_id, name, email, locale, answers, status,"
    "   shard, created_at, confirmed_at, updated_at, chinese_name, search_key, attendance,"
    "   online_place, consent, consent_at)"
    " SELECT $1, i.name, i.email, i.locale, i.answers::jsonb, 'confirmed', s.shard, i.at, i.at,"
    "   i.at, i.chinese_name, i.search_key, i.attendance, $2, i.consent,"
    "   CASE WHEN i.consent IS NULL THEN NULL ELSE i.at END"
    " FROM input i JOIN slots s ON s.slot = i.slot ORDER BY i.slot"
    " ON CONFLICT DO NOTHING " + RETURNING + "),"
    " counted AS (UPDATE seat_shards t SET confirmed = t.confirmed + c.n"
    "   FROM (SELECT shard, count(*) AS n FROM created GROUP BY shard) c"
    "   WHERE t.event_id = $1 AND t.shard = c.shard)"
    + LOG_CREATED
    + " SELECT c.*, (SELECT count(*) FROM slots) AS slots"
    " FROM (SELECT 1) one LEFT JOIN created c ON true"
)


async def insert_batch(
    conn: Connection,
    event_id: UUID,
    online_place: bool,
    version: int,
    shards: int,
    members: list[tuple[dict[str, Any], datetime]],
) -> tuple[list[Row], int]:
    """Confirmed registrations for `members` (fields, now), emails unique among them, in one
    statement: the rows inserted, and how many seats there were (the first that many members
    had one; of those, the ones not inserted were already registered)."""
    columns: list[list[Any]] = [[] for _ in range(9)]
    for fields, now in members:
        values = [fields["name"], fields["email"], fields["locale"]]
        values += [json.encode(fields["answers"]).decode(), fields["chinese_name"]]
        values += [fields["search_key"], fields["attendance"], fields.get("consent"), now]
        for column, value in zip(columns, values, strict=True):
            column.append(value)
    found = await conn.fetch(_INSERT_BATCH, event_id, online_place, version, shards, *columns)
    slots = int(found[0]["slots"])
    return [{k: v for k, v in r.items() if k != "slots"} for r in found if r["id"]], slots
