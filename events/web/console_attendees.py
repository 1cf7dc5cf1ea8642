"""The console's attendee desk: a table of an event's attendees to work from at a busy desk
(filters, search, check-in time and door, answers, sessions) and actions on one attendee
or on a ticked selection. The rules are the API's (events/desk.py calls the same domain
functions); every action answers with a redirect back to the same filtered table and a
message saying how many it was done for.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode
from uuid import UUID

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import BaseRoute, Route

from events import attendees as attendee_list
from events import catalog, desk, spreadsheet
from events.errors import InvalidInput
from events.paging import PageRequest, decode_cursor
from events.web.console import _page, _who
from events.web.i18n import N_
from events.web.render import connection, form_of, now, redirect

PAGE = 100
ACTION_LABELS = {
    "check_in": N_("Check in"),
    "undo_check_in": N_("Undo check-in"),
    "cancel": N_("Cancel registration"),
    "promote": N_("Promote from waitlist"),
    "move": N_("Move to another session"),
    "resend": N_("Send the ticket again"),
}
SKIP_REASONS = {
    "already-checked-in": N_("already checked in"),
    "not-confirmed": N_("not confirmed"),
    "cancelled": N_("cancelled"),
    "not-found": N_("not checked in, or not found"),
    "invalid-state": N_("not possible in their state"),
    "session-full": N_("the session is full"),
}


def routes() -> list[BaseRoute]:
    return [
        Route("/console/events/{event_id}/attendees", attendees),
        Route("/console/events/{event_id}/attendees", act, methods=["POST"]),
        Route("/console/events/{event_id}/attendees.csv", attendees_export),
        Route("/console/events/{event_id}/attendees.xlsx", attendees_export),
    ]


def _filters(params: Any, questions: list[dict[str, Any]]) -> desk.Filters:
    def text(name: str) -> str | None:
        value = str(params.get(name) or "").strip()[:200]
        return value or None

    status = text("status")
    checked = text("checked_in")
    question = text("question")
    return desk.Filters(
        status=status if status in desk.STATUSES else None,
        q=text("q"),
        session_id=catalog.parse_id(text("session") or ""),
        checked_in={"yes": True, "no": False}.get(checked or ""),
        question=question if question in {q["id"] for q in questions} else None,
        answer=text("answer"),
    )


def _filter_query(params: Any) -> str:
    keep = ("status", "q", "session", "checked_in", "question", "answer")
    return urlencode({k: params[k] for k in keep if params.get(k)})


async def attendees(request: Request) -> Response:
    event_id = request.path_params["event_id"]
    async with connection(request) as conn:
        who = await _who(request, conn)
        row = await catalog.load_for(conn, who.actor, event_id, "manage")
        event = await catalog.get_event(conn, who.actor, event_id)
        filters = _filters(request.query_params, row["questions"])
        cursor = decode_cursor(request.query_params.get("cursor"))
        found = await desk.table(
            conn,
            row,
            filters,
            PageRequest(after_seq=cursor, limit=PAGE),
            reader=who.actor,
            now=now(request),
        )
    sessions = {s.id: s for s in event.sessions}
    skipped = [
        (SKIP_REASONS.get(code, SKIP_REASONS["invalid-state"]), int(n))
        for code, n in (p.split(":", 1) for p in request.query_params.getlist("skipped"))
        if n.isdigit()
    ]
    return _page(
        request,
        "console/attendees.html",
        who,
        event=event,
        page=found,
        sessions=sessions,
        filters=filters,
        params=request.query_params,
        filter_query=_filter_query(request.query_params),
        actions=ACTION_LABELS,
        skipped=skipped,
    )


def _ids(form: FormData) -> list[UUID]:
    raw = form.getlist("id") or ([form["one"]] if form.get("one") else [])
    parsed = [catalog.parse_id(str(v)) for v in raw[: desk.MAX_SELECTION + 1]]
    return [p for p in parsed if p is not None]


async def act(request: Request) -> Response:
    event_id = request.path_params["event_id"]
    form = await form_of(request)
    action = str(form.get("action") or form.get("bulk_action") or "")  # a row's, else the bulk
    if ":" in action:  # a row's own button: "check_in:<id>"
        action, _, one = action.partition(":")
        ids = [p for p in [catalog.parse_id(one)] if p is not None]
    else:
        ids = _ids(form)
    back = f"/console/events/{event_id}/attendees"
    query = str(form.get("back") or "")
    move = None
    if action == "move":
        pair = (
            catalog.parse_id(str(form.get("from_session") or "")),
            catalog.parse_id(str(form.get("to_session") or "")),
        )
        move = (pair[0], pair[1]) if pair[0] and pair[1] else None
    async with connection(request, write=True) as conn:
        who = await _who(request, conn)
        row = await catalog.load_for(conn, who.actor, event_id, "manage")
        try:
            outcome = await desk.act(
                conn,
                row,
                who.actor,
                action,  # type: ignore[arg-type]  # desk.act refuses unknown actions
                ids,
                now=now(request),
                move=move,
            )
        except InvalidInput:
            outcome = desk.Outcome(skipped={"invalid-state": max(len(ids), 1)})
    extra = [f"skipped={code}:{n}" for code, n in outcome.skipped.items()]
    url = back + "?" + "&".join(p for p in (query, *extra) if p)
    done = "resent" if action == "resend" else "done"  # "Ticket sent again to N attendees."
    messages: list[tuple[str, int | None]] = [(done, outcome.done)]
    if outcome.skipped:
        messages.append(("skipped", sum(outcome.skipped.values())))
    return redirect(request, url.rstrip("?"), *messages)


async def attendees_export(request: Request) -> Response:
    """attendees.csv or attendees.xlsx: the API's exports, streamed as they are read."""
    async with connection(request) as conn:
        who = await _who(request, conn)
        row = await catalog.load_for(conn, who.actor, request.path_params["event_id"], "manage")
    db, when = request.app.state.db, now(request)
    if request.url.path.endswith(".xlsx"):
        kind, media_type = "xlsx", spreadsheet.MEDIA_TYPE
        chunks = attendee_list.xlsx_chunks(db, row, actor=who.actor, now=when)
    else:
        kind, media_type = "csv", "text/csv; charset=utf-8"
        chunks = attendee_list.csv_chunks(db, row, actor=who.actor, now=when)
    return StreamingResponse(
        chunks,
        media_type=media_type,
        headers={
            "Content-Disposition": f'attachment; filename="{row["slug"]}-registrations.{kind}"',
            "Cache-Control": "no-store",
        },
    )
