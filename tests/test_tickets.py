"""Ticket codes (format 1): golden bytes, size, canonical form, forgery; QR images."""

from __future__ import annotations

import base64
import io
import string
from typing import Any

import httpx
import png
import pytest
import zxingcpp
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from events import rendered, tickets
from tests.conftest import Partner, assert_problem, create_event
from tests.factories import register_person as register

SEED = bytes(range(32))
GOLDEN = "AED5ECIB2ZTNRXKZ3LOEMKCPWEKAXOKOXASVY3ZHGIC46LEBO7QRGS5DRDL7TUATIOUX6HY3VLR4HNACUQYSXZHCPWJFCJOMUQJ2GQB22DCI2BI"
QR_ALPHANUMERIC = set(string.ascii_uppercase + string.digits + " $%*+-./:")


def key(event_seq: int = 7, seed: bytes = SEED) -> tickets.EventKey:
    private = Ed25519PrivateKey.from_private_bytes(seed)
    public = private.public_key()
    from uuid import uuid4

    return tickets.EventKey(uuid4(), event_seq, private, public, public.public_bytes_raw())


GOLDEN_KEY = key()


def test_golden_code() -> None:
    """The format is a contract with door devices: this exact code must never change."""
    code = tickets.sign(GOLDEN_KEY.private_key, 7, 1234, 1)
    assert code == GOLDEN
    raw = base64.b32decode(code + "=" * (-len(code) % 8))
    assert raw[:4] == bytes([0x01, 0x07, 0xD2, 0x09]) and raw[4] == 0x01
    assert len(raw) == 5 + 64
    ticket = tickets.verify(code, GOLDEN_KEY)
    assert ticket is not None
    assert (ticket.event_seq, ticket.registration_seq, ticket.ticket_version) == (7, 1234, 1)


@pytest.mark.parametrize(
    ("event_seq", "registration_seq", "version", "longest_qr"),
    [(1, 1, 1, 5), (5_000, 3_000_000, 3, 5), (2**40, 2**40, 1_000, 6), (2**62, 2**62, 2**31, 6)],
)
def test_code_fits_a_small_qr(
    event_seq: int, registration_seq: int, version: int, longest_qr: int
) -> None:
    k = key(event_seq)
    code = tickets.sign(k.private_key, event_seq, registration_seq, version)
    assert set(code) <= QR_ALPHANUMERIC
    assert tickets.qr_version(code) <= longest_qr
    assert tickets.verify(code, k) is not None


def test_readers_forgive_spaces_and_lower_case() -> None:
    spaced = " ".join(GOLDEN[i : i + 8] for i in range(0, len(GOLDEN), 8)).lower()
    assert tickets.verify(spaced, GOLDEN_KEY) is not None
    assert tickets.verify(GOLDEN + "\n", GOLDEN_KEY) is not None


def test_non_canonical_spellings_are_refused() -> None:
    raw = base64.b32decode(GOLDEN + "=" * (-len(GOLDEN) % 8))
    # 69 bytes = 552 bits in 111 characters: the last character carries 3 unused bits.
    last = GOLDEN[-1]
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
    for other in alphabet:
        if other == last:
            continue
        spelled = GOLDEN[:-1] + other
        try:
            same = base64.b32decode(spelled + "=" * (-len(spelled) % 8)) == raw
        except ValueError:
            same = False
        assert tickets.verify(spelled, GOLDEN_KEY) is None, (other, same)
    assert tickets.verify(GOLDEN + "=====", GOLDEN_KEY) is None
    # a non-minimal varint (7 spelled 0x87 0x00), correctly signed, is still refused
    payload = bytes([1, 0x87, 0x00, 0xD2, 0x09, 0x01])
    forged = base64.b32encode(payload + GOLDEN_KEY.private_key.sign(payload)).decode()
    assert tickets.verify(forged.rstrip("="), GOLDEN_KEY) is None


codes = st.tuples(st.integers(1, 2**40), st.integers(1, 2**40), st.integers(1, 10_000)).map(
    lambda t: (tickets.sign(GOLDEN_KEY.private_key, 7, t[1], t[2]), t)
)


@settings(max_examples=300)
@given(st.integers(1, 2**62), st.integers(1, 2**62), st.integers(1, 2**31))
def test_every_code_round_trips(event_seq: int, registration_seq: int, version: int) -> None:
    k = key(event_seq)
    ticket = tickets.verify(tickets.sign(k.private_key, event_seq, registration_seq, version), k)
    assert ticket is not None
    assert (ticket.registration_seq, ticket.ticket_version) == (registration_seq, version)


def _mutate(code: str, data: st.DataObject) -> str:
    kind = data.draw(st.sampled_from(["replace", "insert", "delete", "truncate", "swap", "tail"]))
    i = data.draw(st.integers(0, len(code) - 1))
    char = data.draw(st.sampled_from(string.ascii_uppercase + "234567" + "01890=-"))
    if kind == "replace":
        return code[:i] + char + code[i + 1 :]
    if kind == "insert":
        return code[:i] + char + code[i:]
    if kind == "delete":
        return code[:i] + code[i + 1 :]
    if kind == "truncate":
        return code[:i]
    if kind == "swap":
        j = data.draw(st.integers(0, len(code) - 1))
        chars = list(code)
        chars[i], chars[j] = chars[j], chars[i]
        return "".join(chars)
    return code + data.draw(st.text(string.ascii_uppercase + "234567", min_size=1, max_size=8))


@settings(max_examples=3000, suppress_health_check=[HealthCheck.too_slow])
@given(codes, st.data())
def test_mutated_codes_are_refused(made: tuple[str, Any], data: st.DataObject) -> None:
    code, _ = made
    mutated = _mutate(code, data)
    if tickets.normalise(mutated) == code:
        return  # e.g. swapping two equal characters: the same code
    assert tickets.verify(mutated, GOLDEN_KEY) is None


@settings(max_examples=2000)
@given(codes, st.integers(0, 68 * 8 - 1))
def test_flipped_bits_are_refused(made: tuple[str, Any], bit: int) -> None:
    code, _ = made
    raw = bytearray(base64.b32decode(code + "=" * (-len(code) % 8)))
    bit %= len(raw) * 8
    raw[bit // 8] ^= 1 << (bit % 8)
    assert tickets.verify(base64.b32encode(bytes(raw)).decode().rstrip("="), GOLDEN_KEY) is None


@settings(max_examples=1000)
@given(st.binary(min_size=32, max_size=32), st.integers(1, 2**40), st.integers(1, 100))
def test_codes_signed_with_another_key_are_refused(seed: bytes, seq: int, version: int) -> None:
    if seed == SEED:
        return
    forged = tickets.sign(Ed25519PrivateKey.from_private_bytes(seed), 7, seq, version)
    assert tickets.verify(forged, GOLDEN_KEY) is None


@settings(max_examples=1000)
@given(st.one_of(st.text(max_size=300), st.binary(max_size=120).map(base64.b32encode)))
def test_random_input_is_refused(junk: Any) -> None:
    text = junk.decode() if isinstance(junk, bytes) else junk
    assert tickets.verify(text, GOLDEN_KEY) is None


def test_a_code_of_another_event_is_refused_by_this_events_key() -> None:
    other = key(8, bytes(32))
    code = tickets.sign(other.private_key, 8, 1234, 1)
    assert tickets.verify(code, GOLDEN_KEY) is None
    # even with the same key, a code naming another event does not verify here
    assert tickets.verify(tickets.sign(GOLDEN_KEY.private_key, 8, 1, 1), GOLDEN_KEY) is None


# --- over HTTP -----------------------------------------------------------------------------


def decode_png(data: bytes) -> list[str]:
    width, height, pixels, info = png.Reader(file=io.BytesIO(data)).asDirect()
    assert info["greyscale"] and not info["alpha"]
    white = 2 ** info["bitdepth"] - 1  # the image is 1-bit: scale to 8-bit for the decoder
    rows = b"".join(bytes(v * 255 // white for v in row) for row in pixels)
    assert len(rows) == width * height
    image = memoryview(rows).cast("B", (height, width))
    return [found.text for found in zxingcpp.read_barcodes(image)]


async def test_qr_png_decodes_to_exactly_the_code(
    client: httpx.AsyncClient, partner: Partner
) -> None:
    event = await create_event(client, partner)
    reg = await register(client, event, "Chan Tai Man")
    ticket = reg["ticket"]
    assert ticket["qr_png"].startswith(f"/api/v1/registrations/{reg['id']}/qr.png?token=")
    response = await client.get(ticket["qr_png"])
    assert response.status_code == 200
    assert response.headers["content-type"] == "image/png"
    assert decode_png(response.content) == [ticket["code"]]
    # the code itself carries nothing personal
    assert "CHAN" not in ticket["code"] and len(ticket["code"]) < 128


async def test_qr_svg_is_the_same_code(client: httpx.AsyncClient, partner: Partner) -> None:
    event = await create_event(client, partner)
    reg = await register(client, event, "Lee Siu Ming")
    response = await client.get(reg["ticket"]["qr_svg"])
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("image/svg+xml")
    assert b"<svg" in response.content and b"<path" in response.content
    assert tickets.qr_svg(reg["ticket"]["code"]) == response.content


async def test_qr_images_are_cached_and_revalidated(
    client: httpx.AsyncClient, partner: Partner, monkeypatch: pytest.MonkeyPatch
) -> None:
    event = await create_event(client, partner)
    reg = await register(client, event, "Wong Ka Yan")
    first = await client.get(reg["ticket"]["qr_png"])
    etag = first.headers["etag"]
    again = await client.get(reg["ticket"]["qr_png"], headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""
    # another worker (no copy of its own) reads the image the first one made from the database
    rendered.forget_local()
    monkeypatch.setattr(tickets, "qr_png", _must_not_render)
    shared = await client.get(reg["ticket"]["qr_png"])
    assert shared.status_code == 200 and shared.content == first.content
    assert decode_png(shared.content) == [reg["ticket"]["code"]]


def _must_not_render(code: str) -> bytes:
    raise AssertionError("made again, though it was made before")


async def test_qr_needs_the_access_token_or_a_host(
    client: httpx.AsyncClient, partner: Partner, other_partner: Partner
) -> None:
    event = await create_event(client, partner)
    reg = await register(client, event, "Ho Mei Ling")
    base = f"/api/v1/registrations/{reg['id']}/qr.png"
    assert_problem(await client.get(base), 401, "unauthenticated")
    assert_problem(await client.get(base + "?token=wrong"), 404, "not-found")
    assert_problem(await client.get(base, headers=other_partner.auth), 404, "not-found")
    assert (await client.get(base, headers=partner.auth)).status_code == 200
    door = await client.post(
        f"/api/v1/events/{event['id']}/door-tokens", json={"label": "d"}, headers=partner.auth
    )
    headers = {"Authorization": f"Bearer {door.json()['token']}"}
    assert_problem(await client.get(base, headers=headers), 403, "forbidden")


async def test_waitlisted_registration_has_no_ticket(
    client: httpx.AsyncClient, partner: Partner
) -> None:
    event = await create_event(client, partner, capacity=1, waitlist=True)
    await register(client, event, "First Person")
    second = await register(client, event, "Second Person")
    assert second["status"] == "waitlisted" and second["ticket"] is None
    url = f"/api/v1/registrations/{second['id']}/qr.png?token={second['access_token']}"
    assert_problem(await client.get(url), 404, "not-found")


async def test_reissue_changes_the_code_and_refuses_the_old(
    client: httpx.AsyncClient, partner: Partner
) -> None:
    event = await create_event(client, partner)
    reg = await register(client, event, "Tam Wing Kei")
    old = reg["ticket"]["code"]
    url = f"/api/v1/registrations/{reg['id']}/reissue-ticket"
    assert_problem(await client.post(url + f"?token={reg['access_token']}"), 401, "unauthenticated")
    response = await client.post(url, headers=partner.auth)
    assert response.status_code == 200, response.text
    new = response.json()["ticket"]["code"]
    assert new != old
    assert decode_png((await client.get(reg["ticket"]["qr_png"])).content) == [new]
    scans = f"/api/v1/events/{event['id']}/checkins"
    refused = assert_problem(
        await client.post(scans, json={"code": old}, headers=partner.auth), 422, "invalid"
    )
    assert refused["result"] == "invalid" and "re-issued" in refused["detail"]
    accepted = await client.post(scans, json={"code": new}, headers=partner.auth)
    assert accepted.status_code == 200 and accepted.json()["result"] == "accepted"
    kit = (
        await client.get(f"/api/v1/events/{event['id']}/checkin-kit", headers=partner.auth)
    ).json()
    assert kit["revoked"] == {old: "reissued"}


async def test_kit_public_key_verifies_issued_codes(
    client: httpx.AsyncClient, partner: Partner
) -> None:
    event = await create_event(client, partner)
    reg = await register(client, event, "Kwok Hoi Yan")
    kit = (
        await client.get(f"/api/v1/events/{event['id']}/checkin-kit", headers=partner.auth)
    ).json()
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    public = Ed25519PublicKey.from_public_bytes(base64.b64decode(kit["public_key"]))
    jwk_x = base64.urlsafe_b64decode(kit["public_key_jwk"]["x"] + "==")
    assert jwk_x == base64.b64decode(kit["public_key"])
    ticket = tickets.parse(reg["ticket"]["code"])
    assert ticket is not None and ticket.signed_by(public)
    assert ticket.event_seq == kit["event_seq"]
    assert kit["names"][str(ticket.registration_seq)] == "Kwok Hoi Yan"


def test_the_documented_example_is_the_golden_code() -> None:
    from pathlib import Path

    doc = (Path(__file__).resolve().parent.parent / "docs" / "ticket-format.md").read_text()
    assert GOLDEN in doc
    assert "01 07 D2 09 01" in doc
