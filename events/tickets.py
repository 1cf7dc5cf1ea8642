"""Tickets: the code a registration's QR carries, and its images.

(Being built out in the check-in work: signed, offline-verifiable codes.)
"""

from __future__ import annotations

import msgspec

from events.queries import Connection, Row


class TicketOut(msgspec.Struct):
    code: str
    qr_png: str
    qr_svg: str


async def ticket_for(conn: Connection, registration: Row, access_token: str) -> TicketOut:
    """The ticket of a confirmed registration."""
    rid = registration["id"]
    code = f"T{registration['seq']}V{registration['ticket_version']}"
    base = f"/api/v1/registrations/{rid}"
    return TicketOut(
        code, f"{base}/qr.png?token={access_token}", f"{base}/qr.svg?token={access_token}"
    )
