"""Email addresses: parsed by email-validator (syntax only, no DNS) into one canonical form.

The canonical form is what is stored and what the one-registration-per-mailbox rule
compares (case-insensitively), so `A@Example.ORG` and `A@example.org` are one mailbox.
A display name (`Ann <a@example.org>`), a list (`a@x.org, b@x.org`), quoted local parts
and control characters are refused: an address is only ever an addr-spec.
"""

from __future__ import annotations

from email_validator import EmailNotValidError, validate_email

MAX_LENGTH = 254


class NotAnAddress(ValueError):
    """Why the text is not an email address."""


def canonical(text: str) -> str:
    """The canonical spelling of an address (the domain in lower case, IDNA-normalised)."""
    candidate = text.strip()
    if not candidate or len(candidate) > MAX_LENGTH:
        raise NotAnAddress("must be an email address")
    try:
        info = validate_email(
            candidate,
            check_deliverability=False,
            allow_display_name=False,
            allow_quoted_local=False,
            allow_domain_literal=False,
        )
    except EmailNotValidError as exc:
        raise NotAnAddress(f"must be an email address ({exc})") from None
    return str(info.normalized)


def is_address(text: str) -> bool:
    try:
        canonical(text)
    except NotAnAddress:
        return False
    return True
