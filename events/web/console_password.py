"""Password reset by mail for console users: ask for a link (the answer is the same whether
or not the email has an account), open it, set a new password (partner_mail.py)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from events import partner_mail
from events.api.routing import client_address
from events.errors import InvalidInput
from events.web.i18n import N_
from events.web.render import connection, error_page, form_of, gettext_of, now, redirect, render

SUBJECT = N_("Reset your console password")
BODY = N_(
    "Someone asked to reset the password of this email's account on the partner console."
    "\n\nTo choose a new password, open this link within an hour:\n{link}\n\n"
    "If it was not you, ignore this mail: your password stays as it is."
)


def routes() -> list[BaseRoute]:
    path = "/console/password-reset"
    return [
        Route(path, ask),
        Route(path, send, methods=["POST"]),
        Route(path + "/{secret}", choose),
        Route(path + "/{secret}", change, methods=["POST"]),
    ]


async def ask(request: Request) -> Response:
    return render(request, "console/password_reset.html", {"sent": False}, private=True)


async def send(request: Request) -> Response:
    await request.app.state.limiter.check("signin", client_address(request))
    form = await form_of(request)
    _ = gettext_of(request)
    async with connection(request, write=True) as conn:
        await partner_mail.request_reset(
            conn,
            str(form.get("email") or "")[:254],
            subject=_(SUBJECT),
            body=_(BODY),
            base_url=request.app.state.settings.base_url,
            now=now(request),
        )
    return render(request, "console/password_reset.html", {"sent": True}, private=True)


def _gone(request: Request) -> Response:
    return error_page(
        request,
        404,
        N_("This link is not valid any more"),
        N_("Ask for a new link: it works once, for an hour."),
    )


async def choose(request: Request) -> Response:
    async with connection(request) as conn:
        live = await partner_mail.reset_is_live(conn, request.path_params["secret"], now(request))
    if not live:
        return _gone(request)
    return render(request, "console/password_new.html", {"error": None}, private=True)


async def change(request: Request) -> Response:
    form = await form_of(request)
    password = str(form.get("password") or "")
    try:
        async with connection(request, write=True) as conn:
            await partner_mail.reset_password(
                conn, request.path_params["secret"], password, now(request)
            )
    except InvalidInput:
        context = {"error": N_("The password needs at least 10 characters.")}
        return render(request, "console/password_new.html", context, status=422, private=True)
    return redirect(request, "/console", ("password-changed", None))
