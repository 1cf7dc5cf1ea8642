"""Approval: hosts approve or reject pending registrations, one or many at a time."""

from __future__ import annotations

from events import approval, catalog, registration
from events.api.routing import Call, Router
from events.approval import DecideIn, DecideOut, RejectIn
from events.queries import Row
from events.registration import RegistrationOut

api = Router("registrations")


async def _host_registration(call: Call) -> Row:
    found, _ = await registration.authorize(
        call.conn, call.actor, None, call.path("registration_id")
    )
    return found


@api.post(
    "/api/v1/registrations/{registration_id}/approve",
    "Approve a pending registration: confirmed with its ticket, or waitlisted (hosts)",
    response=RegistrationOut,
    errors=(409,),
)
async def approve_registration(call: Call) -> RegistrationOut:
    found = await _host_registration(call)
    done = await approval.approve(call.conn, found["id"], call.now, call.actor)
    return await registration.render(
        call.conn, done, base_url=call.settings.base_url, with_secret=False
    )


@api.post(
    "/api/v1/registrations/{registration_id}/reject",
    "Reject a pending registration, with a reason the attendee is told (hosts)",
    body=RejectIn,
    response=RegistrationOut,
    errors=(409,),
)
async def reject_registration(call: Call) -> RegistrationOut:
    found = await _host_registration(call)
    done = await approval.reject(call.conn, found["id"], call.body.reason, call.now, call.actor)
    return await registration.render(
        call.conn, done, base_url=call.settings.base_url, with_secret=False
    )


@api.post(
    "/api/v1/events/{event_id}/registrations/decide",
    "Approve and reject many pending registrations (at most 500 ids); one result each (hosts)",
    body=DecideIn,
    response=DecideOut,
    transaction=False,
)
async def decide_registrations(call: Call) -> DecideOut:
    event = await catalog.load_for(call.conn, call.actor, call.path("event_id"), "manage")
    return await approval.decide(call.conn, event, call.body, call.now, call.actor)
