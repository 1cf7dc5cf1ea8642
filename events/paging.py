"""Cursor pagination: lists come in creation order; the cursor is an opaque position."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from typing import Generic, TypeVar

import msgspec

from events.errors import InvalidInput

T = TypeVar("T")

DEFAULT_LIMIT = 50
MAX_LIMIT = 500


class Page(msgspec.Struct, Generic[T]):
    items: list[T]
    next_cursor: str | None


class Items(msgspec.Struct, Generic[T]):
    """A whole (short) list, in the same envelope as a page."""

    items: list[T]


@dataclass(frozen=True, slots=True)
class PageRequest:
    after_seq: int = 0
    limit: int = DEFAULT_LIMIT

    @classmethod
    def parse(cls, limit: str | None, cursor: str | None) -> PageRequest:
        return cls(after_seq=decode_cursor(cursor), limit=parse_limit(limit))


def parse_limit(value: str | None) -> int:
    if value is None:
        return DEFAULT_LIMIT
    try:
        limit = int(value)
    except ValueError:
        raise InvalidInput.one("limit", "must be a whole number") from None
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidInput.one("limit", f"must be between 1 and {MAX_LIMIT}")
    return limit


def encode_cursor(seq: int) -> str:
    return base64.urlsafe_b64encode(f"s{seq}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> int:
    if not cursor:
        return 0
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        if text[:1] == "s" and text[1:].isascii() and text[1:].isdigit() and len(text) < 20:
            seq = int(text[1:])
            if encode_cursor(seq) == cursor:  # one spelling per cursor: no padding, no zeros
                return seq
    except (binascii.Error, UnicodeDecodeError, ValueError):
        pass
    raise InvalidInput.one("cursor", "is not a cursor this server handed out")


def page_of(items: list[T], seqs: list[int], limit: int) -> Page[T]:
    """`items` fetched with limit + 1: the extra one only says that there is more."""
    if len(items) > limit:
        return Page(items=items[:limit], next_cursor=encode_cursor(seqs[limit - 1]))
    return Page(items=items, next_cursor=None)
