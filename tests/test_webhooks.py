"""Webhooks against a real HTTP receiver on loopback: Standard Webhooks signatures, retries
with backoff, order per registration, no leak across partners, 410 and long failure turn a
webhook off (and the partner is mailed), rotation, test messages and redelivery, and the
address policy (private, loopback, link-local refused, also behind a name)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
import standardwebhooks
from jsonschema import Draft202012Validator

from events.db import Database
from events.settings import Settings
from events.webhook_delivery import RETRIES, WebhookWorker
from tests.conftest import Clock, Partner, assert_problem, create_event
from tests.test_checkin import door_for, register

SCHEMA = json.loads(
    (Path(__file__).resolve().parents[1] / "schemas" / "WebhookPayload.json").read_text()
)


class Receiver:
    """An HTTP server on 127.0.0.1 that records every request and answers from a script."""

    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []
        self.answers: list[int] = []
        self.fail_once_for: list[bytes] = []  # a body holding one of these gets one 500
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length") or 0))
                status = receiver.answers.pop(0) if receiver.answers else 200
                for marker in receiver.fail_once_for:
                    if marker in body:
                        receiver.fail_once_for.remove(marker)
                        status = 500
                receiver.received.append(
                    {"headers": dict(self.headers), "body": body, "status": status}
                )
                self.send_response(status)
                if status in (301, 302, 307):
                    self.send_header("location", "http://127.0.0.1:9/elsewhere")
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def delivered(self) -> list[dict[str, Any]]:
        """The bodies answered with a 2xx, decoded."""
        return [json.loads(r["body"]) for r in self.received if 200 <= r["status"] < 300]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    yield server
    server.close()


@pytest.fixture
def allow_private(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EVENTS_WEBHOOK_ALLOW_PRIVATE", "1")


@pytest.fixture
async def worker(
    db: Database, settings: Settings, clock: Clock
) -> AsyncIterator[tuple[WebhookWorker, list[EmailMessage]]]:
    mails: list[EmailMessage] = []

    async def keep(message: EmailMessage) -> None:
        mails.append(message)

    sender = WebhookWorker(db, settings, clock=clock, send_mail=keep)
    yield sender, mails
    await sender.close()


async def subscribe(
    client: httpx.AsyncClient, partner: Partner, url: str, events: list[str], **extra: Any
) -> dict[str, Any]:
    made = await client.post(
        "/api/v1/webhooks", json={"url": url, "events": events, **extra}, headers=partner.auth
    )
    assert made.status_code == 201, made.text
    body: dict[str, Any] = made.json()
    return body


def verify(secret: str, request: dict[str, Any]) -> None:
    """The reference check of Standard Webhooks, written from the specification."""
    headers = request["headers"]
    msg_id, timestamp = headers["webhook-id"], headers["webhook-timestamp"]
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = f"{msg_id}.{timestamp}.".encode() + request["body"]
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    offered = [s.split(",", 1) for s in headers["webhook-signature"].split(" ")]
    assert ["v1", expected] in offered


async def test_deliveries_are_signed_and_verify_with_the_reference_library(
    client: httpx.AsyncClient,
    partner: Partner,
    receiver: Receiver,
    allow_private: None,
    worker: tuple[WebhookWorker, list[EmailMessage]],
) -> None:
    event = await create_event(client, partner)
    hook = await subscribe(client, partner, receiver.url, ["registration.created"])
    assert hook["secret"].startswith("whsec_") and set(hook) >= {"id", "url", "events", "secret"}
    attendee = await register(client, event, "Chan Tai Man")
    await worker[0].run_until_idle()

    [request] = receiver.received
    standardwebhooks.Webhook(hook["secret"]).verify(request["body"], request["headers"])
    verify(hook["secret"], request)
    body = json.loads(request["body"])
    Draft202012Validator(SCHEMA).validate(body)
    assert body["type"] == "registration.created"
    assert body["data"]["event_id"] == event["id"]
    assert body["data"]["subject"] == {"type": "registration", "id": attendee["id"]}
    assert body["data"]["changes"]["email"] == [None, attendee["email"]]
    assert body["data"]["actor"]["type"] == "attendee"
    assert request["headers"]["webhook-id"].startswith("msg_")
    assert request["headers"]["content-type"] == "application/json"
    with pytest.raises(standardwebhooks.WebhookVerificationError):  # and a forgery does not
        standardwebhooks.Webhook(hook["secret"]).verify(request["body"] + b" ", request["headers"])


async def test_a_500_is_retried_with_backoff_under_the_same_webhook_id(
    client: httpx.AsyncClient,
    partner: Partner,
    receiver: Receiver,
    allow_private: None,
    worker: tuple[WebhookWorker, list[EmailMessage]],
    clock: Clock,
) -> None:
    event = await create_event(client, partner)
    hook = await subscribe(client, partner, receiver.url, ["*"], event_id=event["id"])
    receiver.answers = [500, 503]
    await register(client, event, "Retry Me")
    sender = worker[0]

    async def tries_after(wait: timedelta) -> int:
        clock.offset += wait
        await sender.run_until_idle()
        return len(receiver.received)

    assert await tries_after(timedelta()) == 1
    assert await tries_after(RETRIES[0] - timedelta(seconds=1)) == 1  # not due: the clock moves
    assert await tries_after(timedelta(seconds=1)) == 2
    assert await tries_after(RETRIES[1] - timedelta(seconds=1)) == 2
    assert await tries_after(timedelta(seconds=1)) == 3
    assert [r["status"] for r in receiver.received] == [500, 503, 200]
    assert len({r["headers"]["webhook-id"] for r in receiver.received}) == 1
    for request in receiver.received:
        verify(hook["secret"], request)

    listed = await client.get(f"/api/v1/webhooks/{hook['id']}/deliveries", headers=partner.auth)
    assert listed.status_code == 200
    attempts = listed.json()["items"]
    assert [(a["status"], a["response_status"]) for a in attempts] == [
        ("failed", 500),
        ("failed", 503),
        ("delivered", 200),
    ]
    assert attempts[0]["error"] and attempts[2]["error"] is None
    assert {a["type"] for a in attempts} == {"registration.created"}
    assert all(set(a) >= {"at", "status", "response_status", "error"} for a in attempts)


async def test_one_registration_s_messages_arrive_in_order(
    client: httpx.AsyncClient,
    partner: Partner,
    receiver: Receiver,
    allow_private: None,
    worker: tuple[WebhookWorker, list[EmailMessage]],
    clock: Clock,
) -> None:
    event = await create_event(client, partner, capacity=1, waitlist=True)
    await subscribe(
        client,
        partner,
        receiver.url,
        ["registration.created", "registration.cancelled", "registration.promoted"],
    )
    first = await register(client, event, "First Person")
    second = await register(client, event, "Second Person")
    # the first message about the first registration fails once
    subject = {"type": "registration", "id": first["id"]}
    receiver.fail_once_for = [b'"subject":' + json.dumps(subject, separators=(",", ":")).encode()]
    cancelled = await client.post(
        f"/api/v1/registrations/{first['id']}/cancel?token={first['access_token']}"
    )
    assert cancelled.status_code == 200
    sender = worker[0]
    await sender.run_until_idle()
    # nothing about `first` overtook its failed registration.created
    about_first = [b for b in receiver.delivered() if b["data"]["subject"]["id"] == first["id"]]
    assert about_first == []
    clock.offset += RETRIES[0]
    await sender.run_until_idle()
    sequence = [(b["data"]["subject"]["id"], b["type"]) for b in receiver.delivered()]
    assert [t for s, t in sequence if s == first["id"]] == [
        "registration.created",
        "registration.cancelled",
    ]
    assert [t for s, t in sequence if s == second["id"]] == [
        "registration.created",
        "registration.promoted",
    ]


async def test_a_partner_only_hears_of_events_it_hosts(
    client: httpx.AsyncClient,
    partner: Partner,
    other_partner: Partner,
    allow_private: None,
    worker: tuple[WebhookWorker, list[EmailMessage]],
) -> None:
    mine, theirs = Receiver(), Receiver()
    try:
        event = await create_event(client, partner)
        own = await create_event(client, other_partner)
        await subscribe(client, partner, mine.url, ["*"])
        other_hook = await subscribe(client, other_partner, theirs.url, ["*"])
        await register(client, event, "Private Person")
        await register(client, own, "Their Guest")
        await worker[0].run_until_idle()
        assert {b["data"]["event_id"] for b in theirs.delivered()} == {own["id"]}
        assert {b["data"]["event_id"] for b in mine.delivered()} == {event["id"]}
        assert "Private Person" not in str([r["body"] for r in theirs.received])
        # another partner's webhook is not found, whatever is asked of it
        url = f"/api/v1/webhooks/{other_hook['id']}"
        for method, path in [
            ("GET", url),
            ("DELETE", url),
            ("GET", f"{url}/deliveries"),
            ("POST", f"{url}/test"),
            ("POST", f"{url}/rotate-secret"),
        ]:
            answer = await client.request(method, path, headers=partner.auth)
            assert_problem(answer, 404, "not-found")
        listed = await client.get("/api/v1/webhooks", headers=partner.auth)
        assert other_hook["id"] not in {w["id"] for w in listed.json()["items"]}
        # a webhook cannot be tied to an event the partner does not host
        refused = await client.post(
            "/api/v1/webhooks",
            json={"url": mine.url, "events": ["*"], "event_id": own["id"]},
            headers=partner.auth,
        )
        assert_problem(refused, 422, "invalid-input")
        # once a co-host, the other partner hears of the event from then on
        invite = await client.post(
            f"/api/v1/events/{event['id']}/cohosts",
            json={"partner": other_partner.slug},
            headers=partner.auth,
        )
        await client.post(
            f"/api/v1/invitations/{invite.json()['id']}/accept", headers=other_partner.auth
        )
        await register(client, event, "After Cohosting")
        await worker[0].run_until_idle()
        names = [b["data"]["changes"].get("name") for b in theirs.delivered()]
        assert [None, "After Cohosting"] in names and [None, "Private Person"] not in names
    finally:
        mine.close()
        theirs.close()


async def test_410_turns_the_webhook_off_and_mails_the_partner(
    client: httpx.AsyncClient,
    partner: Partner,
    receiver: Receiver,
    allow_private: None,
    worker: tuple[WebhookWorker, list[EmailMessage]],
) -> None:
    event = await create_event(client, partner)
    hook = await subscribe(client, partner, receiver.url, ["registration.created"])
    receiver.answers = [410]
    await register(client, event, "Gone Away")
    sender, mails = worker
    await sender.run_until_idle()
    read = (await client.get(f"/api/v1/webhooks/{hook['id']}", headers=partner.auth)).json()
    assert read["status"] == "disabled" and "410" in read["disabled_reason"]
    assert "secret" not in read
    [mail] = [m for m in mails if m["To"] == f"{partner.slug}@example.org"]
    assert mail["To"] == f"{partner.slug}@example.org" and hook["url"] in mail.get_content()
    await register(client, event, "While Off")
    await sender.run_until_idle()
    assert len(receiver.received) == 1  # nothing is sent to a disabled webhook
    refused = await client.post(f"/api/v1/webhooks/{hook['id']}/test", headers=partner.auth)
    assert_problem(refused, 409, "invalid-state")
    enabled = await client.post(f"/api/v1/webhooks/{hook['id']}/enable", headers=partner.auth)
    assert enabled.json()["status"] == "active"


async def test_failing_for_over_a_day_gives_up_and_turns_the_webhook_off(
    client: httpx.AsyncClient,
    partner: Partner,
    receiver: Receiver,
    allow_private: None,
    worker: tuple[WebhookWorker, list[EmailMessage]],
    clock: Clock,
) -> None:
    event = await create_event(client, partner)
    hook = await subscribe(client, partner, receiver.url, ["registration.created"])
    receiver.answers = [500] * 20
    await register(client, event, "Never Delivered")
    sender, mails = worker
    await sender.run_until_idle()
    for tries, wait in enumerate(RETRIES, start=1):
        read = (await client.get(f"/api/v1/webhooks/{hook['id']}", headers=partner.auth)).json()
        assert read["status"] == "active"
        clock.offset += wait
        await sender.run_until_idle()
        assert len(receiver.received) == tries + 1
    assert sum(RETRIES, timedelta()) >= timedelta(hours=24)
    assert len(receiver.received) == len(RETRIES) + 1
    read = (await client.get(f"/api/v1/webhooks/{hook['id']}", headers=partner.auth)).json()
    assert read["status"] == "disabled" and "24 hours" in read["disabled_reason"]
    assert [m["To"] for m in mails].count(f"{partner.slug}@example.org") == 1
    clock.offset += timedelta(days=1)
    await sender.run_until_idle()
    assert len(receiver.received) == len(RETRIES) + 1  # given up: not retried forever


async def test_rotation_signs_with_both_secrets_for_a_day(
    client: httpx.AsyncClient,
    partner: Partner,
    receiver: Receiver,
    allow_private: None,
    worker: tuple[WebhookWorker, list[EmailMessage]],
    clock: Clock,
) -> None:
    hook = await subscribe(client, partner, receiver.url, ["webhook.test"])
    rotated = await client.post(
        f"/api/v1/webhooks/{hook['id']}/rotate-secret", headers=partner.auth
    )
    assert rotated.status_code == 200
    fresh = rotated.json()["secret"]
    assert fresh.startswith("whsec_") and fresh != hook["secret"]
    test = await client.post(f"/api/v1/webhooks/{hook['id']}/test", headers=partner.auth)
    assert test.status_code == 202
    await worker[0].run_until_idle()
    [request] = receiver.received
    assert json.loads(request["body"])["type"] == "webhook.test"
    verify(fresh, request)
    verify(hook["secret"], request)
    standardwebhooks.Webhook(fresh).verify(request["body"], request["headers"])
    clock.offset += timedelta(days=1, seconds=1)
    await client.post(f"/api/v1/webhooks/{hook['id']}/test", headers=partner.auth)
    await worker[0].run_until_idle()
    later = receiver.received[1]
    verify(fresh, later)
    with pytest.raises(AssertionError):
        verify(hook["secret"], later)


async def test_redelivery_sends_the_same_message_again(
    client: httpx.AsyncClient,
    partner: Partner,
    receiver: Receiver,
    allow_private: None,
    worker: tuple[WebhookWorker, list[EmailMessage]],
) -> None:
    hook = await subscribe(client, partner, receiver.url, ["webhook.test"])
    queued = (await client.post(f"/api/v1/webhooks/{hook['id']}/test", headers=partner.auth)).json()
    await worker[0].run_until_idle()
    again = await client.post(
        f"/api/v1/webhooks/{hook['id']}/deliveries/{queued['message_id']}/redeliver",
        headers=partner.auth,
    )
    assert again.status_code == 202
    await worker[0].run_until_idle()
    first, second = receiver.received
    assert first["body"] == second["body"]
    assert first["headers"]["webhook-id"] == second["headers"]["webhook-id"]
    unknown = await client.post(
        f"/api/v1/webhooks/{hook['id']}/deliveries/999999999/redeliver", headers=partner.auth
    )
    assert_problem(unknown, 404, "not-found")


async def test_redirects_are_not_followed(
    client: httpx.AsyncClient,
    partner: Partner,
    receiver: Receiver,
    allow_private: None,
    worker: tuple[WebhookWorker, list[EmailMessage]],
) -> None:
    hook = await subscribe(client, partner, receiver.url, ["webhook.test"])
    receiver.answers = [302]
    await client.post(f"/api/v1/webhooks/{hook['id']}/test", headers=partner.auth)
    await worker[0].run_until_idle()
    listed = await client.get(f"/api/v1/webhooks/{hook['id']}/deliveries", headers=partner.auth)
    [attempt] = listed.json()["items"]
    assert attempt["status"] == "failed" and attempt["response_status"] == 302
    assert len(receiver.received) == 1


@pytest.mark.parametrize(
    "url",
    [
        "https://127.0.0.1/hook",
        "https://localhost/hook",
        "https://[::1]/hook",
        "https://10.1.2.3/hook",
        "https://192.168.0.10/hook",
        "https://172.16.5.4/hook",
        "https://169.254.169.254/latest/meta-data",
        "https://[fe80::1]/hook",
        "https://[::ffff:127.0.0.1]/hook",
        "https://0.0.0.0/hook",
        "https://100.64.0.1/hook",
        "http://93.184.216.34/hook",  # public, but not https
    ],
)
async def test_inside_addresses_and_plain_http_are_refused(
    client: httpx.AsyncClient, partner: Partner, url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("EVENTS_WEBHOOK_ALLOW_PRIVATE", raising=False)
    answer = await client.post(
        "/api/v1/webhooks", json={"url": url, "events": ["*"]}, headers=partner.auth
    )
    body = assert_problem(answer, 422, "webhook-url-not-allowed")
    assert body["errors"][0]["field"] == "url"


async def test_webhook_input_is_checked(
    client: httpx.AsyncClient, partner: Partner, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("EVENTS_WEBHOOK_ALLOW_PRIVATE", raising=False)
    public = "https://93.184.216.34/hook"
    made = await subscribe(client, partner, public, ["registration.created", "checkin.created"])
    assert made["events"] == ["registration.created", "checkin.created"]
    for body in (
        {"url": "ftp://example.org/x", "events": ["*"]},
        {"url": "not a url", "events": ["*"]},
        {"url": "https://user:pw@93.184.216.34/", "events": ["*"]},
        {"url": public, "events": []},
        {"url": public, "events": ["no.such"]},
        {"url": public, "events": ["*"], "event_id": "nope"},
        {"url": public, "events": ["*"], "secret": "mine"},
    ):
        answer = await client.post("/api/v1/webhooks", json=body, headers=partner.auth)
        assert_problem(answer, 422, "invalid-input")
    anonymous = await client.post("/api/v1/webhooks", json={"url": public, "events": ["*"]})
    assert_problem(anonymous, 401, "unauthenticated")
    event = await create_event(client, partner)
    door = await door_for(client, partner, event)
    refused = await client.post(
        "/api/v1/webhooks", json={"url": public, "events": ["*"]}, headers=door.auth
    )
    assert_problem(refused, 403, "forbidden")
    deleted = await client.delete(f"/api/v1/webhooks/{made['id']}", headers=partner.auth)
    assert deleted.status_code == 204
    gone = await client.get(f"/api/v1/webhooks/{made['id']}", headers=partner.auth)
    assert_problem(gone, 404, "not-found")


async def test_the_address_is_checked_again_at_delivery(
    client: httpx.AsyncClient,
    partner: Partner,
    receiver: Receiver,
    monkeypatch: pytest.MonkeyPatch,
    worker: tuple[WebhookWorker, list[EmailMessage]],
) -> None:
    monkeypatch.setenv("EVENTS_WEBHOOK_ALLOW_PRIVATE", "1")
    event = await create_event(client, partner)
    hook = await subscribe(client, partner, receiver.url, ["registration.created"])
    monkeypatch.delenv("EVENTS_WEBHOOK_ALLOW_PRIVATE")
    await register(client, event, "Not Sent")
    await worker[0].run_once()
    assert receiver.received == []
    listed = await client.get(f"/api/v1/webhooks/{hook['id']}/deliveries", headers=partner.auth)
    [attempt] = listed.json()["items"]
    assert attempt["status"] == "failed" and attempt["error"].startswith("refused")


async def test_webhook_changes_are_in_the_audit_log_but_never_sent(
    client: httpx.AsyncClient, partner: Partner, db: Database, allow_private: None
) -> None:
    hook = await subscribe(client, partner, "http://127.0.0.1:9/x", ["*"])
    await client.post(f"/api/v1/webhooks/{hook['id']}/rotate-secret", headers=partner.auth)
    async with db.connection() as conn:
        logged = await conn.fetch(
            "SELECT action, actor_type FROM audit_log WHERE subject_id = $1 ORDER BY id",
            hook["id"],
        )
        queued = await conn.fetchval(
            "SELECT count(*) FROM webhook_messages WHERE webhook_id = $1", hook["id"]
        )
    assert [r["action"] for r in logged] == ["webhook.created", "webhook.secret_rotated"]
    assert {r["actor_type"] for r in logged} == {"partner"}
    assert queued == 0
    assert datetime.now(UTC)  # the entries carry the request's time (the app clock)
