"""Identifiers as they appear in URLs and bodies: one spelling each.

A UUID is accepted only as 8-4-4-4-12 hex digits (either case, answered in lower case);
braces, `urn:uuid:`, missing hyphens and the like are not ids of this service, so whatever
looks them up finds nothing (404), exactly as for an unknown id.
"""

from __future__ import annotations

import re
from uuid import UUID

_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")

#: The pattern of an id, for the OpenAPI document.
UUID_PATTERN = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"


def parse_uuid(value: UUID | str) -> UUID | None:
    """The UUID of a canonical spelling, or None."""
    if isinstance(value, UUID):
        return value
    if not isinstance(value, str) or _UUID.fullmatch(value) is None:
        return None
    return UUID(value)
