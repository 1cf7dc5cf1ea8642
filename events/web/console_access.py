"""Console pages for approval and invitations: the review queue (approve or reject one or
many), the event's approval and invite-only settings, access codes, guests and the CSV
import with its report. Each calls the same domain functions as the API with the signed-in
partner's `Actor`."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import msgspec
from starlette.datastructures import FormData, UploadFile
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from events import access, approval, catalog, guests
from events import attendees as attendee_list
from events.access import AccessCodeIn
from events.catalog import EventPatch
from events.errors import DomainError, InvalidInput
from events.guests import GuestIn
from events.hosting import Actor
from events.paging import PageRequest
from events.queries import Connection, Row
from events.web.console import _page, _who
from events.web.i18n import N_
from events.web.render import connection, form_of, now, redirect

Work = Callable[[Connection, Actor, Row, FormData], Awaitable[dict[str, Any] | None]]
MESSAGES = {
    "already-exists": N_("This exists already."),
    "invalid-input": N_("Please check what you entered."),
}


def routes() -> list[BaseRoute]:
    def post(path: str, handler: Callable[[Request], Awaitable[Response]]) -> Route:
        return Route(path, handler, methods=["POST"])

    base = "/console/events/{event_id}"
    return [
        Route(f"{base}/review", review),
        post(f"{base}/review", decide),
        Route(f"{base}/access", access_page),
        post(f"{base}/access/settings", settings),
        post(f"{base}/access/codes", add_code),
        post(f"{base}/access/codes/{{code_id}}/revoke", revoke_code),
        post(f"{base}/access/guests", add_guest),
        post(f"{base}/access/import", import_guests),
    ]


# --- the review queue ----------------------------------------------------------------------


async def _review(request: Request, **extra: Any) -> Response:
    async with connection(request) as conn:
        who = await _who(request, conn)
        event_id = request.path_params["event_id"]
        row = await catalog.load_for(conn, who.actor, event_id, "manage")
        event = await catalog.get_event(conn, who.actor, event_id)
        pending = await attendee_list.list_registrations(
            conn,
            row,
            status="pending",
            q_text=None,
            page=PageRequest(after_seq=0, limit=500),
            base_url=request.app.state.settings.base_url,
        )
    context = {"event": event, "pending": pending.items, "results": None, **extra}
    return _page(request, "console/review.html", who, **context)


async def review(request: Request) -> Response:
    return await _review(request)


async def decide(request: Request) -> Response:
    """One row's button (`one` = "approve:<id>"), or the ticked rows with `action`."""
    form = await form_of(request)
    one = str(form.get("one") or "")
    if one:
        action, _, ids = one.partition(":")
        chosen = [ids]
    else:
        action, chosen = str(form.get("action") or ""), [str(i) for i in form.getlist("ids")]
    reason = str(form.get("reason") or "").strip()[:2000] or None
    data = approval.DecideIn(
        approve=chosen if action == "approve" else [],
        reject=chosen if action == "reject" else [],
        reason=reason,
    )
    async with connection(request) as conn:
        who = await _who(request, conn)
        event = await catalog.load_for(conn, who.actor, request.path_params["event_id"], "manage")
        outcome = await approval.decide(conn, event, data, now(request), who.actor)
    return await _review(request, results=outcome.results)


# --- settings, codes, guests ---------------------------------------------------------------


async def _access(request: Request, *, status: int = 200, **extra: Any) -> Response:
    async with connection(request) as conn:
        who = await _who(request, conn)
        event_id = request.path_params["event_id"]
        row = await catalog.load_for(conn, who.actor, event_id, "manage")
        event = await catalog.get_event(conn, who.actor, event_id)
        page = PageRequest(after_seq=0, limit=500)
        codes = await access.list_codes(conn, row, page)
        listed = await guests.list_guests(
            conn, row, status=None, page=page, base_url=request.app.state.settings.base_url
        )
    context = {"event": event, "codes": codes.items, "guests": listed.items, "report": None}
    context.update({"message": None, **extra})
    return _page(request, "console/access.html", who, status=status, **context)


async def access_page(request: Request) -> Response:
    return await _access(request)


async def _change(request: Request, work: Work) -> Response:
    form = await form_of(request)
    try:
        async with connection(request, write=True) as conn:
            who = await _who(request, conn)
            row = await catalog.load_for(conn, who.actor, request.path_params["event_id"], "manage")
            shown = await work(conn, who.actor, row, form)
    except DomainError as exc:
        await form.close()  # an uploaded file's spool
        if exc.status in (401, 403, 404):
            raise
        message = MESSAGES.get(exc.code, N_("That is not possible right now."))
        return await _access(request, status=422 if exc.status == 422 else 409, message=message)
    await form.close()
    if shown is not None:
        return await _access(request, **shown)
    return redirect(request, f"/console/events/{request.path_params['event_id']}/access")


async def settings(request: Request) -> Response:
    async def work(conn: Connection, actor: Actor, event: Row, form: FormData) -> None:
        patch = EventPatch(
            approval=str(form.get("approval") or "none"),  # type: ignore[arg-type]
            invite_only=form.get("invite_only") == "yes",
        )
        if patch.approval not in ("none", "hold", "screen"):
            raise InvalidInput.one("approval", "must be none, hold or screen")
        await catalog.patch_event(conn, actor, str(event["id"]), patch, now(request))

    return await _change(request, work)


async def add_code(request: Request) -> Response:
    async def work(conn: Connection, actor: Actor, event: Row, form: FormData) -> None:
        data = msgspec.convert(
            {
                "code": str(form.get("code") or "").strip() or None,
                "max_uses": int(str(form.get("max_uses"))) if form.get("max_uses") else None,
                "expires_at": _local_time(str(form.get("expires_at") or ""), event["timezone"]),
                "skip_approval": form.get("skip_approval") == "yes",
            },
            AccessCodeIn,
        )
        await access.create_code(conn, event, data, now(request))

    return await _guarded(request, work)


async def revoke_code(request: Request) -> Response:
    async def work(conn: Connection, actor: Actor, event: Row, form: FormData) -> None:
        await access.revoke_code(conn, event, request.path_params["code_id"], now(request))

    return await _change(request, work)


async def add_guest(request: Request) -> Response:
    async def work(conn: Connection, actor: Actor, event: Row, form: FormData) -> None:
        data = msgspec.convert(
            {
                "name": str(form.get("name") or "").strip(),
                "email": str(form.get("email") or "").strip(),
                "locale": str(form.get("locale") or "en"),
            },
            GuestIn,
        )
        base_url = request.app.state.settings.base_url
        await guests.add_guest(conn, event, data, now=now(request), base_url=base_url)

    return await _guarded(request, work)


async def import_guests(request: Request) -> Response:
    async def work(conn: Connection, actor: Actor, event: Row, form: FormData) -> dict[str, Any]:
        upload = form.get("file")
        raw = await upload.read() if isinstance(upload, UploadFile) else b""
        dry_run = form.get("dry_run") == "yes"
        report = await guests.import_guests(conn, event, raw, dry_run=dry_run, now=now(request))
        return {"report": report}

    return await _guarded(request, work)


async def _guarded(request: Request, work: Work) -> Response:
    """`_change`, with form values that do not convert (a number that is not one) as a 422."""

    async def checked(
        conn: Connection, actor: Actor, event: Row, form: FormData
    ) -> dict[str, Any] | None:
        try:
            return await work(conn, actor, event, form)
        except (msgspec.ValidationError, ValueError) as exc:
            raise InvalidInput.one("form", str(exc)) from None

    return await _change(request, checked)


def _local_time(text: str, zone: str) -> datetime | None:
    """A datetime-local field (the event's own zone) → an aware time."""
    if not text:
        return None
    return datetime.fromisoformat(text).replace(tzinfo=ZoneInfo(zone))
