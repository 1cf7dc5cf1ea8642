"""Online attendance: an attendee switches between the room and online."""

from __future__ import annotations

from events import registration, switching
from events.api.routing import Call, Router
from events.registration import RegistrationOut
from events.switching import RegistrationPatch

api = Router("online")


@api.patch(
    "/api/v1/registrations/{registration_id}",
    "Change a registration (its access token, or a host): switch between the room and online",
    body=RegistrationPatch,
    response=RegistrationOut,
    auth="attendee",
    errors=(409,),
)
async def patch_registration(call: Call) -> RegistrationOut:
    found, mine = await registration.authorize(
        call.conn, call.actor, call.secret, call.path("registration_id")
    )
    done = await switching.patch(call.conn, found, call.body, call.now)
    return await registration.render(
        call.conn, done, base_url=call.settings.base_url, with_secret=mine
    )
