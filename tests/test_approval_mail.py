"""The mails of approval, in the attendee's language: under review, approved (with the QR
ticket and the invite), not approved (with the host's reason); none has a ticket before."""

from __future__ import annotations

from typing import Any

import httpx

from events.db import Database
from events.settings import Settings
from tests.conftest import Clock, Partner, create_event
from tests.test_mail import Inbox, address, calendar_of, drain, inbox, make_worker, parts

__all__ = ["inbox"]


async def apply(client: httpx.AsyncClient, event: dict[str, Any], who: str, locale: str) -> Any:
    made = await client.post(
        f"/api/v1/events/{event['id']}/registrations",
        json={"name": "陳大文", "email": who, "locale": locale},
    )
    assert made.status_code == 201, made.text
    return made.json()


async def test_each_step_is_mailed_in_the_attendees_language(
    client: httpx.AsyncClient,
    partner: Partner,
    db: Database,
    settings: Settings,
    clock: Clock,
    inbox: Inbox,
) -> None:
    worker = make_worker(db, settings, clock, inbox)
    event = await create_event(client, partner, approval="hold", capacity=5)
    yes, no = address("approved"), address("rejected")
    a = await apply(client, event, yes, "en")
    b = await apply(client, event, no, "zh-Hant")
    await drain(worker)
    [under_review] = inbox.to(yes)
    assert str(under_review["Subject"]).startswith("Under review")
    assert calendar_of(under_review) is None
    assert not [p for p in under_review.walk() if p.get_content_type() == "image/png"]
    [review_zh] = inbox.to(no)
    assert "審核中" in str(review_zh["Subject"])

    await client.post(f"/api/v1/registrations/{a['id']}/approve", headers=partner.auth)
    await client.post(
        f"/api/v1/registrations/{b['id']}/reject",
        headers=partner.auth,
        json={"reason": "名額只限代表"},
    )
    await drain(worker)
    approved = inbox.to(yes)[-1]
    assert str(approved["Subject"]).startswith("Approved")
    cal = calendar_of(approved)
    assert cal is not None and str(cal["method"]) == "REQUEST"
    assert [p for p in approved.walk() if p.get_content_type() == "image/png"]
    rejected = inbox.to(no)[-1]
    assert "未獲批准" in str(rejected["Subject"])
    text = parts(rejected)["text/plain"]
    assert "名額只限代表" in text and calendar_of(rejected) is None  # the host's reason
