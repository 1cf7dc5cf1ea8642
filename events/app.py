"""The application, built in one factory: routes, middleware, exception handlers, lifespan."""

from __future__ import annotations

import contextlib
import gc
import logging
from collections.abc import AsyncIterator, Callable
from datetime import datetime

import msgspec
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import BaseRoute, Route

from events import inbound, jobs, mail, ratelimit, web
from events.api import access as access_api
from events.api import approval as approval_api
from events.api import calendar as calendar_api
from events.api import catalog as catalog_api
from events.api import checkin as checkin_api
from events.api import docs, openapi
from events.api import hosting as hosting_api
from events.api import online as online_api
from events.api import registration as registration_api
from events.api.problems import EXCEPTION_HANDLERS, BodyLimit, CatchAll
from events.api.routing import Endpoint, starlette_route, utcnow
from events.db import Database, migrate
from events.settings import Settings

log = logging.getLogger("events")

ROUTERS = [
    catalog_api.api,
    hosting_api.api,
    registration_api.api,
    approval_api.api,
    online_api.api,
    access_api.api,
    calendar_api.api,
    checkin_api.api,
]


#: Matched first: Starlette tries the routes in order (~2 µs each; these were 23rd and 38th),
#: and these two take the surges.
HOT = [
    ("POST", "/api/v1/events/{event_id}/registrations"),
    ("POST", "/api/v1/events/{event_id}/checkins"),
]


def endpoints() -> list[Endpoint]:
    """Every endpoint, in the order of the API's documentation."""
    return [e for router in ROUTERS for e in router.endpoints]


def _hot_first(found: list[Endpoint]) -> list[Endpoint]:
    return sorted(found, key=lambda e: (e.method, e.path) not in HOT)


def _freeze_start_up_objects() -> None:
    """Keep what start-up made (modules, routes, templates, locale data: ~75,000 objects that
    live as long as the process) out of the collector's full passes, which otherwise took
    ~80 ms each and stalled every request in flight during a surge."""
    gc.collect()
    gc.freeze()


def create_app(
    settings: Settings,
    *,
    database: Database | None = None,
    clock: Callable[[], datetime] = utcnow,
) -> Starlette:
    """The ASGI app. Without `database` it connects to `settings.database_url` on start."""
    if database is None:
        if settings.database_url is None:
            raise ValueError(
                "create_app needs settings.database_url (the CLI starts an embedded one)"
            )
        database = Database(settings.database_url, pool_size=settings.db_pool_size)
    db = database
    spec = openapi.build(endpoints())
    spec_body = msgspec.json.encode(spec)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await db.connect()
        try:
            await migrate(db)
            async with (
                mail.worker_running(db, settings, clock=clock) as app.state.mail_worker,
                jobs.runner_running(db, settings, clock=clock) as app.state.jobs,
                inbound.running(db, settings, clock=clock),
            ):
                _freeze_start_up_objects()
                yield
        finally:
            await db.disconnect()

    async def healthz(request: Request) -> Response:
        if await db.ping():
            return JSONResponse({"status": "ok"})
        return JSONResponse({"status": "unavailable", "database": "unreachable"}, status_code=503)

    async def openapi_json(request: Request) -> Response:
        return Response(spec_body, media_type="application/json")

    async def api_docs(request: Request) -> Response:
        return HTMLResponse(docs.page(spec))

    routes: list[BaseRoute] = [
        Route("/healthz", healthz),
        Route("/api/v1/openapi.json", openapi_json),
        Route("/api/docs", api_docs),
        *(starlette_route(e) for e in _hot_first(endpoints())),
        *web.routes(),
    ]
    app = Starlette(
        routes=routes,
        middleware=[Middleware(BodyLimit), Middleware(CatchAll)],
        exception_handlers={**EXCEPTION_HANDLERS, **web.EXCEPTION_HANDLERS},
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.db = db
    app.state.clock = clock
    app.state.limiter = ratelimit.Limiter(ratelimit.parse(settings.rate_limits))
    return app


def create_app_from_env() -> Starlette:
    """Factory for uvicorn workers: the CLI has already set DATABASE_URL and migrated."""
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    return create_app(Settings.from_env())
