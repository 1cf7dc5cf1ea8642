"""Partner tokens, door tokens and co-host invitations."""

from __future__ import annotations

from uuid import UUID

from events import catalog, hosting, partner_mail
from events.api.routing import Call, Router
from events.errors import NotFound
from events.hosting import CohostIn, DoorTokenIn, InvitationOut, TokenIn, TokenOut
from events.paging import Items

api = Router("hosting")


def _uuid(call: Call, name: str) -> UUID:
    parsed = catalog.parse_id(call.path(name))
    if parsed is None:
        raise NotFound()
    return parsed


@api.get(
    "/api/v1/tokens", "Your partner API tokens (without their secrets)", response=list[TokenOut]
)
async def list_tokens(call: Call) -> list[TokenOut]:
    return await hosting.list_partner_tokens(call.conn, call.actor)


@api.post(
    "/api/v1/tokens",
    "Create another partner API token; its secret is shown once",
    body=TokenIn,
    response=TokenOut,
    status=201,
    idempotent=True,
)
async def create_token(call: Call) -> TokenOut:
    return await hosting.create_partner_token(call.conn, call.actor, call.body)


@api.post(
    "/api/v1/tokens/{token_id}/revoke", "Revoke one of your partner tokens", response=TokenOut
)
async def revoke_token(call: Call) -> TokenOut:
    return await hosting.revoke_partner_token(
        call.conn, call.actor, _uuid(call, "token_id"), call.now
    )


@api.post(
    "/api/v1/events/{event_id}/door-tokens",
    "Issue a door token for this event (hosts); with `session_id`, a door of that session",
    body=DoorTokenIn,
    response=TokenOut,
    status=201,
    idempotent=True,
)
async def create_door_token(call: Call) -> TokenOut:
    event = await catalog.load_for(call.conn, call.actor, call.path("event_id"), "manage")
    return await hosting.create_door_token(call.conn, event, call.actor, call.body)


@api.get(
    "/api/v1/events/{event_id}/door-tokens",
    "The event's door tokens, revoked ones included (hosts)",
    response=Items[TokenOut],
)
async def list_door_tokens(call: Call) -> Items[TokenOut]:
    event = await catalog.load_for(call.conn, call.actor, call.path("event_id"), "manage")
    return await hosting.list_door_tokens(call.conn, event)


@api.post(
    "/api/v1/events/{event_id}/door-tokens/{token_id}/revoke",
    "Revoke a door token (hosts)",
    response=TokenOut,
)
async def revoke_door_token(call: Call) -> TokenOut:
    event = await catalog.load_for(call.conn, call.actor, call.path("event_id"), "manage")
    return await hosting.revoke_door_token(
        call.conn, event, _uuid(call, "token_id"), call.now, call.actor
    )


@api.post(
    "/api/v1/events/{event_id}/cohosts",
    "Invite a partner to co-host (owner)",
    body=CohostIn,
    response=InvitationOut,
    status=201,
    idempotent=True,
    errors=(409,),
)
async def invite_cohost(call: Call) -> InvitationOut:
    event = await catalog.load_for(call.conn, call.actor, call.path("event_id"), "change_hosts")
    invitation = await hosting.invite_cohost(call.conn, event, call.actor, call.body)
    console = f"{call.settings.base_url}/console"
    await partner_mail.cohost_invited(call.conn, invitation, console_url=console, now=call.now)
    return invitation


@api.get(
    "/api/v1/events/{event_id}/cohosts",
    "The event's co-host invitations (hosts)",
    response=list[InvitationOut],
)
async def list_event_invitations(call: Call) -> list[InvitationOut]:
    event = await catalog.load_for(call.conn, call.actor, call.path("event_id"), "manage")
    return await hosting.list_event_invitations(call.conn, event)


@api.post(
    "/api/v1/events/{event_id}/cohosts/{partner}/remove",
    "Remove a co-host (owner)",
    response=None,
    status=204,
)
async def remove_cohost(call: Call) -> None:
    event = await catalog.load_for(call.conn, call.actor, call.path("event_id"), "change_hosts")
    await hosting.remove_cohost(call.conn, event, call.path("partner"), call.actor)


@api.get("/api/v1/invitations", "Your pending co-host invitations", response=Items[InvitationOut])
async def list_invitations(call: Call) -> Items[InvitationOut]:
    return Items(await hosting.list_invitations(call.conn, call.actor))


@api.post(
    "/api/v1/invitations/{invitation_id}/accept",
    "Accept an invitation to co-host",
    response=InvitationOut,
    errors=(409,),
)
async def accept_invitation(call: Call) -> InvitationOut:
    return await hosting.answer_invitation(
        call.conn, call.actor, _uuid(call, "invitation_id"), accept=True, now=call.now
    )


@api.post(
    "/api/v1/invitations/{invitation_id}/decline",
    "Decline an invitation to co-host",
    response=InvitationOut,
    errors=(409,),
)
async def decline_invitation(call: Call) -> InvitationOut:
    return await hosting.answer_invitation(
        call.conn, call.actor, _uuid(call, "invitation_id"), accept=False, now=call.now
    )
