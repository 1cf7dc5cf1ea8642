"""Which URLs a webhook may call: https, and never an address inside (SSRF).

A URL is checked when the webhook is made and again before every delivery, on the
addresses its host name resolves to *then* (so a name that resolves to 127.0.0.1, or is
re-pointed inside later, is refused too). Refused: loopback, private (RFC 1918, ULA),
link-local (169.254/16 with the cloud metadata address, fe80::/10), shared (100.64/10),
multicast, reserved, unspecified, and IPv4 addresses mapped into IPv6.
EVENTS_WEBHOOK_ALLOW_PRIVATE=1 (development, tests) allows all of these and plain http.

A name that does not resolve when the webhook is made is accepted (DNS may be down for a
moment, or the receiver not deployed yet); deliveries to it fail and are retried until it does.
"""

from __future__ import annotations

import asyncio
import ipaddress
import os
import socket
from urllib.parse import urlsplit

from events.errors import InvalidInput, WebhookUrlNotAllowed
from events.settings import Settings

IP = ipaddress.IPv4Address | ipaddress.IPv6Address


def allow_private(settings: Settings) -> bool:
    """The setting, or the variable set in this process since (tests set it per test)."""
    return settings.webhook_allow_private or os.environ.get("EVENTS_WEBHOOK_ALLOW_PRIVATE") == "1"


def inside(address: IP) -> bool:
    """True for every address a webhook must not reach."""
    if isinstance(address, ipaddress.IPv6Address):
        mapped = address.ipv4_mapped or address.sixtofour
        if mapped is not None:
            return inside(mapped)
    return not address.is_global or address.is_multicast


def parse(url: str) -> tuple[str, str, int]:
    """(scheme, host, port) of a well-formed absolute http(s) URL; else a 422 on `url`."""
    if any(c.isspace() or ord(c) < 32 for c in url) or len(url) > 2000:
        raise InvalidInput.one("url", "must be an absolute https URL")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise InvalidInput.one("url", "must be an absolute https URL") from None
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise InvalidInput.one("url", "must be an absolute https URL")
    if parts.username or parts.password:
        raise InvalidInput.one("url", "must not carry a user name or password")
    return parts.scheme, parts.hostname, port or (443 if parts.scheme == "https" else 80)


async def resolve(host: str, port: int) -> list[IP] | None:
    """The addresses `host` resolves to now; None if it does not resolve."""
    try:
        return [ipaddress.ip_address(host)]
    except ValueError:
        pass
    try:
        found = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError, OSError):
        return None
    return [ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in found]


async def check(url: str, settings: Settings, *, resolved: bool = False) -> None:
    """Refuse (WebhookUrlNotAllowed, a 422) a URL a webhook may not call. With `resolved`
    (at delivery), a name that does not resolve is refused too."""
    scheme, host, port = parse(url)
    if allow_private(settings):
        return
    if scheme != "https":
        raise WebhookUrlNotAllowed("must be an https URL")
    addresses = await resolve(host, port)
    if addresses is None:
        if resolved:
            raise WebhookUrlNotAllowed(f"{host} does not resolve")
        return
    bad = [str(a) for a in addresses if inside(a)]
    if bad:
        raise WebhookUrlNotAllowed(
            f"{host} resolves to {bad[0]}: private, loopback and link-local addresses are refused"
        )
