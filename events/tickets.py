"""Tickets: the signed code a registration's QR carries, and its images.

Format 1 (docs/ticket-format.md has the full description, golden-tested in the tests):

    code    = base32(payload + signature)          RFC 4648, uppercase, no "=" padding
    payload = 0x01                                 format version
              + uvarint(event_seq)                 events.seq (LEB128, minimal)
              + uvarint(registration_seq)          registrations.seq
              + uvarint(ticket_version)            raised by a host's re-issue
    signature = Ed25519(event's private key, payload)   64 bytes

Nothing personal is in a code. Each event has its own key pair, made on first need and kept
in PostgreSQL; the private key never leaves the server, the public key goes to door devices
in the check-in kit, so a code is verified offline. Codes are canonical (one code per
ticket): readers strip spaces and uppercase, then refuse non-zero padding bits, non-minimal
varints and trailing bytes. A typical code is 112–117 characters of the QR alphanumeric
set: a QR of version 5 at error correction M (version 6 for very large numbers).

Keys, codes and rendered images are cached in-process: a key never changes, and a code is a
pure function of (key, seq, version), so the hot paths (a scan, an image) touch no key table.
"""

from __future__ import annotations

import base64
import binascii
import io
import secrets
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import TypeVar
from uuid import UUID

import msgspec
import png
import qrcode
import qrcode.constants
import qrcode.image.svg
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from events import rendered
from events.errors import InvalidState, NotFound
from events.lru import LruCache
from events.queries import Connection, Row
from events.queries import tickets as q

FORMAT_VERSION = 1
SIGNATURE_BYTES = 64
MAX_VARINT_BYTES = 9  # values below 2**63, like PostgreSQL's bigint
MAX_CODE_CHARS = 160  # longer input is not a code of this format (and is not decoded)

K = TypeVar("K")
V = TypeVar("V")


class TicketOut(msgspec.Struct):
    code: str
    qr_png: str
    qr_svg: str


@dataclass(frozen=True, slots=True)
class Ticket:
    """What a code says (once its signature is checked): whose ticket, which version."""

    event_seq: int
    registration_seq: int
    ticket_version: int
    payload: bytes
    signature: bytes

    def signed_by(self, public_key: Ed25519PublicKey) -> bool:
        try:
            public_key.verify(self.signature, self.payload)
        except InvalidSignature:
            return False
        return True


@dataclass(frozen=True, slots=True, eq=False)
class EventKey:
    """An event's key pair (compared and hashed by identity: one object per loaded key)."""

    event_id: UUID
    event_seq: int
    private_key: Ed25519PrivateKey
    public_key: Ed25519PublicKey
    public_raw: bytes


# --- the code ------------------------------------------------------------------------------


def _uvarint(value: int) -> bytes:
    if value < 0:
        raise ValueError("varints are unsigned")
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _read_uvarint(data: bytes, at: int) -> tuple[int, int] | None:
    """(value, next position), or None if truncated, too long or not minimal."""
    value = shift = 0
    for i in range(MAX_VARINT_BYTES):
        if at + i >= len(data):
            return None
        byte = data[at + i]
        value |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            if byte == 0 and i > 0:
                return None  # a trailing zero group: not the minimal encoding
            return value, at + i + 1
    return None


def payload(event_seq: int, registration_seq: int, ticket_version: int) -> bytes:
    return (
        bytes([FORMAT_VERSION])
        + _uvarint(event_seq)
        + _uvarint(registration_seq)
        + _uvarint(ticket_version)
    )


def sign(
    private_key: Ed25519PrivateKey, event_seq: int, registration_seq: int, ticket_version: int
) -> str:
    """The code of a ticket (deterministic: Ed25519 signatures are)."""
    data = payload(event_seq, registration_seq, ticket_version)
    raw = data + private_key.sign(data)
    return base64.b32encode(raw).decode("ascii").rstrip("=")


def normalise(text: str) -> str:
    return "".join(text.split()).upper()


def parse(text: str) -> Ticket | None:
    """The fields of a well-formed code, signature NOT yet checked; None if malformed."""
    if len(text) > MAX_CODE_CHARS:
        return None
    code = normalise(text)
    try:
        raw = base64.b32decode(code + "=" * (-len(code) % 8))
    except (binascii.Error, ValueError):
        return None
    if base64.b32encode(raw).decode("ascii").rstrip("=") != code:
        return None  # non-zero padding bits, or stray "=": not the one canonical spelling
    if len(raw) < 4 + SIGNATURE_BYTES or raw[0] != FORMAT_VERSION:
        return None
    fields: list[int] = []
    at = 1
    for _ in range(3):
        read = _read_uvarint(raw, at)
        if read is None:
            return None
        value, at = read
        fields.append(value)
    if len(raw) - at != SIGNATURE_BYTES or fields[2] < 1:
        return None
    return Ticket(fields[0], fields[1], fields[2], raw[:at], raw[at:])


def verify(text: str, key: EventKey) -> Ticket | None:
    """The ticket, if `text` is a code of this event signed with its key; else None."""
    ticket = parse(text)
    if ticket is None or ticket.event_seq != key.event_seq:
        return None
    return ticket if ticket.signed_by(key.public_key) else None


# --- per-event keys ------------------------------------------------------------------------


_keys: LruCache[UUID, EventKey] = LruCache(4096)
_keys_by_seq: LruCache[int, EventKey] = LruCache(4096)


def _event_key(record: Row) -> EventKey:
    private = Ed25519PrivateKey.from_private_bytes(bytes(record["private_key"]))
    public = private.public_key()
    found = EventKey(
        record["event_id"], int(record["event_seq"]), private, public, bytes(record["public_key"])
    )
    _keys.put(found.event_id, found)
    _keys_by_seq.put(found.event_seq, found)
    return found


async def event_key(conn: Connection, event_id: UUID) -> EventKey:
    """The event's signing key, made (once, whoever asks first) on first need."""
    found = _keys.get(event_id)
    if found is not None:
        return found
    record = await q.event_key(conn, event_id)
    if record is None:
        raise NotFound("No such event")
    if record["private_key"] is None:
        seed = secrets.token_bytes(32)
        public = Ed25519PrivateKey.from_private_bytes(seed).public_key().public_bytes_raw()
        made = await q.insert_event_key(conn, event_id, seed, public)
        record = made if made is not None else await q.event_key(conn, event_id)
        assert record is not None and record["private_key"] is not None
    return _event_key(record)


async def event_key_by_seq(conn: Connection, event_seq: int) -> EventKey | None:
    """An existing key by the event's number (codes carry it); None if the event has none."""
    found = _keys_by_seq.get(event_seq)
    if found is not None:
        return found
    if event_seq >= 2**63:
        return None
    record = await q.event_key_by_seq(conn, event_seq)
    return None if record is None else _event_key(record)


def forget() -> None:
    """Tests that recreate the database call this."""
    _keys.items.clear()
    _keys_by_seq.items.clear()
    _code.cache_clear()


@lru_cache(maxsize=8192)
def _code(key: EventKey, registration_seq: int, ticket_version: int) -> str:
    return sign(key.private_key, key.event_seq, registration_seq, ticket_version)


def code_of(key: EventKey, registration_seq: int, ticket_version: int) -> str:
    return _code(key, registration_seq, ticket_version)


async def code_for(conn: Connection, registration: Row) -> str:
    key = await event_key(conn, registration["event_id"])
    return code_of(key, int(registration["seq"]), int(registration["ticket_version"]))


async def ticket_for(conn: Connection, registration: Row, access_token: str) -> TicketOut:
    """The ticket of a confirmed registration."""
    base = f"/api/v1/registrations/{registration['id']}"
    return TicketOut(
        await code_for(conn, registration),
        f"{base}/qr.png?token={access_token}",
        f"{base}/qr.svg?token={access_token}",
    )


async def reissue(conn: Connection, registration: Row, now: datetime) -> Row:
    """A new code for a confirmed registration; its older codes stop working."""
    if registration["status"] != "confirmed":
        raise InvalidState("Only a confirmed registration has a ticket to re-issue")
    return {
        **registration,
        "ticket_version": await q.bump_ticket_version(conn, registration["id"], now),
    }


# --- QR images -----------------------------------------------------------------------------


def _qr(code: str, box_size: int) -> qrcode.QRCode:  # type: ignore[type-arg]
    made = qrcode.QRCode(
        error_correction=qrcode.constants.ERROR_CORRECT_M, box_size=box_size, border=4
    )
    made.add_data(qrcode.util.QRData(code, mode=qrcode.util.MODE_ALPHA_NUM))
    made.make(fit=True)
    return made


def qr_version(code: str) -> int:
    return int(_qr(code, 1).version)


def qr_png(code: str) -> bytes:
    """The QR of `code` as a PNG (black on white, 8 px modules, a 4-module quiet zone)."""
    matrix = _qr(code, 1).get_matrix()
    scale = 8
    side = len(matrix) * scale
    rows = []
    for line in matrix:  # one bit a pixel, packed: 0.4 ms where 8-bit rows took 7 ms
        bits = "".join(("0" if dark else "1") * scale for dark in line)
        bits += "0" * (-len(bits) % 8)
        rows.extend([int(bits, 2).to_bytes(len(bits) // 8, "big")] * scale)
    out = io.BytesIO()
    png.Writer(side, side, greyscale=True, bitdepth=1).write_packed(out, rows)
    return out.getvalue()


def qr_svg(code: str) -> bytes:
    """The QR of `code` as SVG (one path; scales to any size)."""
    image = _qr(code, 10).make_image(image_factory=qrcode.image.svg.SvgPathImage)
    out = io.BytesIO()
    image.save(out)
    return out.getvalue()


async def qr_image(
    conn: Connection, registration_id: UUID, code: str, render: str, *, now: datetime
) -> bytes:
    """The ticket's QR as "png" or "svg", made once and shared by every worker (rendered.py)."""
    make = qr_png if render == "png" else qr_svg
    return await rendered.cached(
        conn, registration_id, f"qr.{render}", code, make=lambda: make(code), now=now
    )
