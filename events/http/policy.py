"""The input policy: one set of rules for every text that enters, wherever it enters.

- No control characters (C0, DEL, C1), no lone surrogates, in any text.
- Line breaks (CR, LF, U+2028, U+2029, and tabs) only in multi-line fields, named in
  `MULTILINE` (`description`, `body`, …): nothing that reaches a mail header or a one-line
  calendar property (titles, names, venues, labels, addresses) may break a line.
- Lengths bounded: a one-line text at most `MAX_LINE` characters, a multi-line one
  `MAX_TEXT`, a key `MAX_KEY`; an object or list at most `MAX_ITEMS` entries.
A fault is a 422 naming the field (`title`, `questions.0.label`, the query parameter `q`,
the form field `name`).
The checks run where input enters: api/routing.py's body decoder, the `InputPolicy`
middleware (paths and query strings), web/render.py's form reader; the domain trusts them.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from typing import Any

import msgspec

from events.errors import MAX_LISTED_ERRORS, FieldError, InvalidInput

MULTILINE = frozenset({"description", "body", "instructions", "reason", "message"})
#: Form fields (named `q-0-options`: the last part counts) that are multi-line textareas; a
#: question's options come one per line and are split into one-line options.
FORM_MULTILINE = MULTILINE | {"options"}
LINE_BREAKS = frozenset("\r\n\t\u2028\u2029")
MAX_LINE = 2_000
MAX_TEXT = 20_000
MAX_KEY = 200
MAX_ITEMS = 1_000

#: Anything the policy may refuse in a JSON body is escaped (`\u0000`, `\n`), DEL, or one of these
#: raw UTF-8 sequences (C1 controls, U+2028/2029); a body with none of them and no size worth
#: counting is clean without a walk (the registration hot path).
_SUSPECT = re.compile(rb"\\|\x7f|\xc2[\x80-\x9f]|\xe2\x80[\xa8\xa9]")
_WALK_ABOVE = 4096


def text_fault(value: str, *, multiline: bool = False) -> str | None:
    """Why `value` may not be stored, or None."""
    limit = MAX_TEXT if multiline else MAX_LINE
    if len(value) > limit:
        return f"must be at most {limit} characters"
    for char in value:
        if char.isprintable() or char == " ":
            continue
        if char in LINE_BREAKS:
            if multiline:
                continue
            return "must be one line (no line breaks or tabs)"
        category = unicodedata.category(char)
        if category == "Cc":
            return "must not contain control characters"
        if category == "Cs":
            return "must not contain unpaired surrogates"
    return None


def is_multiline(path: str, names: frozenset[str] = MULTILINE) -> bool:
    """Whether the field at a dotted (or dashed) path is multi-line: its last named part says."""
    for part in reversed(re.split(r"[.-]", path)):
        if part and not part.isdigit():
            return part in names
    return False


def tree_faults(value: Any, path: str, found: list[FieldError]) -> None:
    """Append the policy's faults in decoded JSON (at most MAX_LISTED_ERRORS + 1 of them)."""
    if len(found) > MAX_LISTED_ERRORS:
        return
    if isinstance(value, str):
        fault = text_fault(value, multiline=is_multiline(path))
        if fault:
            found.append(FieldError(path or "body", fault))
        return
    if isinstance(value, dict):
        items: Iterable[tuple[Any, Any]] = value.items()
    elif isinstance(value, list):
        items = enumerate(value)
    else:
        return
    if len(value) > MAX_ITEMS:
        found.append(FieldError(path or "body", f"must have at most {MAX_ITEMS} entries"))
        return
    for key, item in items:
        child = f"{path}.{key}" if path else str(key)
        if isinstance(key, str):
            fault = text_fault(key) or (
                f"names must be at most {MAX_KEY} characters" if len(key) > MAX_KEY else None
            )
            if fault:
                found.append(FieldError(child[: MAX_KEY + 50], fault))
                continue
        tree_faults(item, child, found)


def check_json(raw: bytes) -> None:
    """Refuse a (well-formed) JSON body that breaks the policy."""
    if len(raw) <= _WALK_ABOVE and _SUSPECT.search(raw) is None:
        return
    found: list[FieldError] = []
    tree_faults(msgspec.json.decode(raw), "", found)
    if found:
        raise InvalidInput(found)


def check_fields(
    items: Iterable[tuple[str, Any]], prefix: str, multiline: frozenset[str] = MULTILINE
) -> None:
    """Refuse query parameters or form fields that break the policy (files are skipped);
    each is named by its own name, `prefix` (`query`, `form`) names the whole."""
    found: list[FieldError] = []
    for count, (name, value) in enumerate(items):
        if count >= MAX_ITEMS:
            found.append(FieldError(prefix, f"must have at most {MAX_ITEMS} fields"))
            break
        where = name[:MAX_KEY] or prefix
        fault = text_fault(name) or (
            text_fault(value, multiline=is_multiline(name, multiline))
            if isinstance(value, str)
            else None
        )
        if fault:
            found.append(FieldError(where, fault))
            if len(found) > MAX_LISTED_ERRORS:
                break
    if found:
        raise InvalidInput(found)


def path_fault(path: str) -> bool:
    """Whether a (percent-decoded) URL path can only be a mistake or an attack."""
    return len(path) > MAX_LINE or text_fault(path) is not None
