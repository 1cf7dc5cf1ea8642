"""The console's page of the partner itself: API tokens (create, shown once; revoke) and the
team (console users: add with a first password, disable)."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from events import catalog, hosting, team
from events.errors import DomainError, InvalidInput, NotFound, Unauthenticated
from events.hosting import TokenIn
from events.web.console import _page, _who
from events.web.i18n import N_
from events.web.render import connection, form_of, now, redirect

PATH = "/console/account"
MESSAGES = {
    "email": N_("Please enter a valid email address."),
    "password": N_("The first password needs at least 10 characters."),
    "already-exists": N_("Someone with this email has an account already."),
    "invalid-state": N_("You cannot disable yourself."),
}


def routes() -> list[BaseRoute]:
    def post(path: str, handler: Any) -> Route:
        return Route(path, handler, methods=["POST"])

    return [
        Route(PATH, account),
        post(PATH + "/tokens", create_token),
        post(PATH + "/tokens/{token_id}/revoke", revoke_token),
        post(PATH + "/members", add_member),
        post(PATH + "/members/{user_id}/disable", disable_member),
    ]


async def _show(request: Request, *, status: int = 200, **extra: Any) -> Response:
    async with connection(request) as conn:
        who = await _who(request, conn)
        tokens = await hosting.list_partner_tokens(conn, who.actor)
        members = await team.members(conn, who.actor)
    context = {"tokens": tokens, "members": members, "errors": {}, "new_token": None, **extra}
    return _page(request, "console/account.html", who, status=status, **context)


async def account(request: Request) -> Response:
    return await _show(request)


async def create_token(request: Request) -> Response:
    form = await form_of(request)
    label = " ".join(str(form.get("label") or "").split())[:200]
    async with connection(request, write=True) as conn:
        who = await _who(request, conn)
        created = await hosting.create_partner_token(conn, who.actor, TokenIn(label))
    return await _show(request, new_token=created)


async def revoke_token(request: Request) -> Response:
    await form_of(request)
    parsed = catalog.parse_id(request.path_params["token_id"])
    if parsed is None:
        raise NotFound()
    async with connection(request, write=True) as conn:
        who = await _who(request, conn)
        await hosting.revoke_partner_token(conn, who.actor, parsed, now(request))
    return redirect(request, PATH, ("saved", None))


async def add_member(request: Request) -> Response:
    form = await form_of(request)
    email, password = str(form.get("email") or ""), str(form.get("password") or "")
    try:
        async with connection(request, write=True) as conn:
            who = await _who(request, conn)
            await team.add(conn, who.actor, email, password)
    except InvalidInput as exc:
        field = exc.extra["errors"][0]["field"]
        errors = {field: MESSAGES.get(field, MESSAGES["email"])}
        return await _show(request, status=422, errors=errors, values={"email": email})
    except Unauthenticated:
        raise
    except DomainError as exc:
        if exc.status == 404:
            raise
        errors = {"email": MESSAGES.get(exc.code, MESSAGES["email"])}
        return await _show(request, status=409, errors=errors, values={"email": email})
    return redirect(request, PATH, ("saved", None))


async def disable_member(request: Request) -> Response:
    await form_of(request)
    parsed = catalog.parse_id(request.path_params["user_id"])
    if parsed is None:
        raise NotFound()
    async with connection(request, write=True) as conn:
        who = await _who(request, conn)
        try:
            await team.disable(conn, who.actor, parsed, own_email=who.email, now=now(request))
        except DomainError as exc:
            if exc.status != 409:
                raise
            return await _show(request, status=409, errors={"member": MESSAGES["invalid-state"]})
    return redirect(request, PATH, ("saved", None))
