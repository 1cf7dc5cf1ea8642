"""The webhook address policy as properties: every inside address is refused however it is
written, public ones pass, and no text makes the URL parser fail with anything but a 422."""

from __future__ import annotations

import ipaddress

import pytest
from hypothesis import given
from hypothesis import strategies as st

from events import webhook_url
from events.errors import InvalidInput, WebhookUrlNotAllowed
from events.settings import Settings

INSIDE = [
    "10.0.0.0/8",
    "172.16.0.0/12",
    "192.168.0.0/16",
    "127.0.0.0/8",
    "169.254.0.0/16",
    "100.64.0.0/10",
    "0.0.0.0/8",
]


@st.composite
def inside_v4(draw: st.DrawFn) -> ipaddress.IPv4Address:
    network = ipaddress.ip_network(draw(st.sampled_from(INSIDE)))
    offset = draw(st.integers(0, network.num_addresses - 1))
    return network.network_address + offset


@given(inside_v4())
def test_inside_ipv4_is_refused_also_mapped_into_ipv6(address: ipaddress.IPv4Address) -> None:
    assert webhook_url.inside(address)
    assert webhook_url.inside(ipaddress.IPv6Address(f"::ffff:{address}"))


@given(st.integers(0, 2**32 - 1))
def test_any_ipv4_is_judged_the_same_when_mapped(value: int) -> None:
    address = ipaddress.IPv4Address(value)
    mapped = ipaddress.IPv6Address(f"::ffff:{address}")
    assert webhook_url.inside(mapped) == webhook_url.inside(address)
    if address.is_global and not address.is_multicast:
        assert not webhook_url.inside(address)


@given(st.integers(0, 2**128 - 1))
def test_ipv6_loopback_link_local_and_private_are_refused(value: int) -> None:
    address = ipaddress.IPv6Address(value)
    if address.is_loopback or address.is_link_local or address.is_private:
        assert webhook_url.inside(address)


@given(st.text(max_size=300))
def test_the_url_parser_refuses_any_text_with_a_422(text: str) -> None:
    try:
        scheme, host, port = webhook_url.parse(text)
    except InvalidInput:
        return
    assert scheme in ("http", "https") and host and 0 <= port <= 65535


@pytest.mark.parametrize("host", ["localhost", "127.0.0.1", "[::1]", "[::ffff:10.0.0.1]"])
async def test_names_and_literals_inside_are_refused(
    host: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("EVENTS_WEBHOOK_ALLOW_PRIVATE", raising=False)
    with pytest.raises(WebhookUrlNotAllowed):
        await webhook_url.check(f"https://{host}/hook", Settings())
    await webhook_url.check(f"https://{host}/hook", Settings(webhook_allow_private=True))
