"""Attendee self-service (change a registration, get the link again) and hosts' messages."""

from __future__ import annotations

from events import catalog, messages, selfservice
from events.api import params
from events.api.routing import Call, Router
from events.messages import MessageIn, MessageOut, MessageQueued
from events.paging import Page, PageRequest
from events.registration import RegistrationOut
from events.selfservice import RegistrationPatch, ResendIn, ResendOut

api = Router("self-service")


@api.patch(
    "/api/v1/registrations/{registration_id}",
    "Change name, answers, sessions or language (its access token until edits close, or hosts)",
    body=RegistrationPatch,
    response=RegistrationOut,
    auth="attendee",
    tag="registrations",
    errors=(404, 409),
)
async def patch_registration(call: Call) -> RegistrationOut:
    return await selfservice.edit(
        call.conn,
        call.actor,
        call.secret,
        call.path("registration_id"),
        call.body,
        now=call.now,
        base_url=call.settings.base_url,
    )


@api.post(
    "/api/v1/events/{event_id}/registrations/resend",
    "Mail the ticket link again to a registered address (always 202: no one learns who registered)",
    body=ResendIn,
    response=ResendOut,
    status=202,
    auth="none",
    tag="registrations",
    rate_limit="resend",
    errors=(404,),
)
async def resend_link(call: Call) -> ResendOut:
    event = selfservice.resendable(await catalog.load(call.conn, call.path("event_id")))
    email = call.body.email.strip().lower()
    # per address (the endpoint's limit) and per email: over it, nothing is sent, same answer
    if await call.request.app.state.limiter.hit("resend-email", email):
        await selfservice.resend(call.conn, event, email, now=call.now)
    return ResendOut()


@api.post(
    "/api/v1/events/{event_id}/messages",
    "Write to an audience of the event's registrations (hosts); dry_run counts them",
    body=MessageIn,
    response=MessageQueued,
    status=202,
    idempotent=True,
    errors=(404,),
)
async def send_message(call: Call) -> MessageQueued:
    return await messages.send(
        call.conn, call.actor, call.path("event_id"), call.body, now=call.now
    )


@api.get(
    "/api/v1/events/{event_id}/messages",
    "The event's messages with how many were sent, pending, failed (hosts)",
    response=Page[MessageOut],
    query=params.PAGE,
)
async def list_messages(call: Call) -> Page[MessageOut]:
    page = PageRequest.parse(call.query("limit"), call.query("cursor"))
    return await messages.list_messages(call.conn, call.actor, call.path("event_id"), page)
