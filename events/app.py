"""The application, built in one factory: routes, middleware, exception handlers, lifespan."""

from __future__ import annotations

import contextlib
import gc
import logging
from collections.abc import AsyncIterator, Callable
from datetime import datetime
from urllib.parse import urlsplit

import msgspec
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from events import background, ratelimit, web
from events.api import access as access_api
from events.api import approval as approval_api
from events.api import audit as audit_api
from events.api import calendar as calendar_api
from events.api import catalog as catalog_api
from events.api import checkin as checkin_api
from events.api import docs, openapi, probes
from events.api import door as door_api
from events.api import hosting as hosting_api
from events.api import lifecycle as lifecycle_api
from events.api import registration as registration_api
from events.api import selfservice as selfservice_api
from events.api import webhooks as webhooks_api
from events.api.problems import EXCEPTION_HANDLERS, BodyLimit, CatchAll
from events.api.routing import Endpoint, starlette_route, utcnow
from events.db import Database, migrate
from events.errors import DatabaseUnavailable
from events.http.middleware import InputPolicy, SecurityHeaders
from events.settings import Settings

log = logging.getLogger("events")

ROUTERS = [
    catalog_api.api,
    lifecycle_api.api,
    hosting_api.api,
    registration_api.api,
    approval_api.api,
    access_api.api,
    selfservice_api.api,
    calendar_api.api,
    checkin_api.api,
    door_api.api,
    audit_api.api,
    webhooks_api.api,
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


async def _migrate_if_reachable(db: Database) -> None:
    """Apply pending migrations. A node that starts while its database is away (a failover)
    starts all the same and answers 503 until the database is back; `serve` has migrated
    before starting its workers, and /readyz says whether every migration is applied."""
    try:
        await migrate(db)
    except DatabaseUnavailable as exc:
        log.warning("not migrated at start: %s", exc.detail)


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
        database = settings.database()
    db = database
    spec = openapi.build(endpoints())
    spec_body = msgspec.json.encode(spec)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await db.connect()
        try:
            await _migrate_if_reachable(db)
            async with background.running(db, settings, clock=clock) as work:
                app.state.mail_worker, app.state.jobs = work.mail, work.jobs
                app.state.webhook_worker = work.webhooks
                _freeze_start_up_objects()
                yield
        finally:
            await app.state.limiter.close()
            await db.disconnect()

    async def openapi_json(request: Request) -> Response:
        return Response(spec_body, media_type="application/json")

    async def api_docs(request: Request) -> Response:
        return HTMLResponse(docs.page(spec))

    async def without_slash(request: Request) -> Response:
        """`/events/x/` → `/events/x`, on the configured base URL (never the Host header's)."""
        target = "/" + request.path_params["path"].strip("/")
        if request.url.query:
            target += "?" + request.url.query
        return RedirectResponse(settings.base_url + target, status_code=308)

    routes: list[BaseRoute] = [
        Route("/healthz", probes.healthz),
        Route("/readyz", probes.readyz),
        Route("/api/v1/openapi.json", openapi_json),
        Route("/api/docs", api_docs),
        *(starlette_route(e) for e in _hot_first(endpoints())),
        *web.routes(),
        Route("/{path:path}/", without_slash, methods=["GET", "HEAD"]),
    ]
    app = Starlette(
        routes=routes,
        middleware=[
            Middleware(SecurityHeaders),
            Middleware(TrustedHostMiddleware, allowed_hosts=allowed_hosts(settings)),
            Middleware(InputPolicy, refuse=web.refuse),
            Middleware(BodyLimit),
            Middleware(CatchAll),
        ],
        exception_handlers={**EXCEPTION_HANDLERS, **web.EXCEPTION_HANDLERS},
        lifespan=lifespan,
    )
    app.router.redirect_slashes = False  # it builds the URL from the Host header
    app.state.settings = settings
    app.state.db = db
    app.state.clock = clock
    app.state.limiter = ratelimit.Limiter(
        ratelimit.parse(settings.rate_limits), settings.rate_limit_storage
    )
    return app


def allowed_hosts(settings: Settings) -> list[str]:
    """The Host headers answered: the base URL's host, and this machine's own names."""
    own = urlsplit(settings.base_url).hostname or "localhost"
    return sorted({own, "localhost", "127.0.0.1", "test", "testserver"})


def create_app_from_env() -> Starlette:
    """Factory for uvicorn workers: the CLI has already set DATABASE_URL and migrated."""
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    return create_app(Settings.from_env())
