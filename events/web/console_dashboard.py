"""An event's dashboard in the console: the numbers of `analytics.analytics()` (the same the
API's /analytics gives), each chart drawn as SVG with its numbers in a table beside it."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from events import analytics, catalog
from events.analytics import AnalyticsOut
from events.web import charts
from events.web.console import _page, _who
from events.web.i18n import N_, Formatter
from events.web.render import connection, gettext_of, lang_of, now

STATUS_NAMES = {
    "confirmed": N_("Confirmed"),
    "waitlisted": N_("Waitlisted"),
    "cancelled": N_("Cancelled"),
}


def routes() -> list[BaseRoute]:
    return [Route("/console/events/{event_id}/dashboard", dashboard)]


async def dashboard(request: Request) -> Response:
    event_id = request.path_params["event_id"]
    async with connection(request) as conn:
        who = await _who(request, conn)
        row = await catalog.load_for(conn, who.actor, event_id, "manage")
        event = await catalog.get_event(conn, who.actor, event_id)
        numbers = await analytics.analytics(conn, row, now(request))
    return _page(
        request,
        "console/event_dashboard.html",
        who,
        event=event,
        n=numbers,
        **_charts(request, numbers),
    )


def _charts(request: Request, n: AnalyticsOut) -> dict[str, Any]:
    _ = gettext_of(request)
    fmt = Formatter(lang_of(request))
    zone = n.timezone
    over = n.registrations_over_time
    statuses = list(over.buckets[0].counts) if over.buckets else list(analytics.STATUSES)
    status_names = {s: _(STATUS_NAMES.get(s, s)) for s in statuses}
    if over.step == "hour":
        over_labels = [
            f"{fmt.short_date(b.start, zone)} {fmt.time(b.start, zone)}" for b in over.buckets
        ]
    else:
        over_labels = [fmt.short_date(b.start, zone) for b in over.buckets]
    over_series = [
        charts.Series(
            status_names[s],
            charts.STATUS_COLOURS.get(s, charts.colour(i + 3)),
            [b.counts.get(s, 0) for b in over.buckets],
        )
        for i, s in enumerate(statuses)
    ]
    doors = n.arrivals.doors
    door_names = {d: d if d and d != "console" else _("By hand") for d in doors}
    arrival_labels = [fmt.time(b.start, zone) for b in n.arrivals.buckets]
    arrival_series = [
        charts.Series(
            door_names[d], charts.colour(i), [b.counts.get(d, 0) for b in n.arrivals.buckets]
        )
        for i, d in enumerate(doors)
    ]
    return {
        "statuses": statuses,
        "status_names": status_names,
        "over_labels": over_labels,
        "over_series": over_series,
        "over_chart": charts.stacked_bars(
            _("Registrations over time, by status"), over_labels, over_series
        ),
        "door_names": door_names,
        "arrival_labels": arrival_labels,
        "arrival_series": arrival_series,
        "arrivals_chart": charts.stacked_bars(
            _("Arrivals per five minutes, by door"), arrival_labels, arrival_series
        ),
        "fill_chart": charts.fill_bars(
            _("Fill of each session"), [(s.title, s.confirmed, s.capacity) for s in n.sessions]
        ),
        "show_up_chart": charts.ratio_bar(_("Show-up rate"), n.checked_in, n.confirmed),
        "waitlist_chart": charts.ratio_bar(
            _("Waitlist conversion"), n.waitlist.promoted, n.waitlist.ever
        ),
    }
