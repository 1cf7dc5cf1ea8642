"""Rendered files (QR images, calendar files), made once per version and shared.

Making a ticket's QR image costs about 5 ms of CPU (the `qrcode` library is pure Python, and
so is every alternative measured) and a calendar file about 3 ms (`icalendar`): far slower than
serving stored bytes. So each file is made once per version of what it shows, and kept twice:
in this process (a small LRU, no I/O) and in PostgreSQL (`rendered_files`, one row per subject
and kind, replaced when its version changes), so that the other worker processes and machines
behind a load balancer read the file instead of making it again.

A version names everything the file shows: a ticket code for a QR image (codes never change;
a re-issued ticket has a new one), the revision and states behind a calendar file.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Hashable
from datetime import datetime
from uuid import UUID

from events.lru import LruCache
from events.queries import Connection
from events.queries import rendered as q

LOCAL_FILES = 2048

_local: LruCache[tuple[UUID, str], tuple[str, bytes]] = LruCache(LOCAL_FILES)


def version_of(*parts: Hashable) -> str:
    """A short, stable name for everything a file shows."""
    return hashlib.sha256(repr(parts).encode()).hexdigest()[:32]


async def cached(
    conn: Connection,
    subject: UUID,
    kind: str,
    version: str,
    *,
    make: Callable[[], bytes],
    now: datetime,
) -> bytes:
    """The file `kind` of `subject` at `version`: from this process, the database, or `make`."""
    key = (subject, kind)
    found = _local.get(key)
    if found is not None and found[0] == version:
        return found[1]
    body = await q.rendered(conn, subject, kind, version)
    if body is None:
        body = make()
        await q.keep_rendered(conn, subject, kind, version, body, now)
    _local.put(key, (version, body))
    return body


def forget_local() -> None:
    """Drop this process's copies (tests: to show the database serves another worker)."""
    _local.clear()


def forget_subject(subject: UUID) -> None:
    """Drop this process's copies of one subject's files (an erasure)."""
    _local.discard_where(lambda key, _: key[0] == subject)
