"""What load balancers ask: `/healthz` (alive) and `/readyz` (can take writes).

`/healthz`: the process answers and the database answers a query; a balancer that restarts
dead processes asks this. `/readyz`: this node can register people now: its database is a
primary, not read-only (`pg_is_in_recovery()`, `transaction_read_only`), and every migration
this code ships is applied; a balancer routes requests only to nodes that say so. Both
answer 503 with `Retry-After` otherwise, and neither is in the API's document.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

RETRY_AFTER = {"Retry-After": "2"}
NO_STORE = {"Cache-Control": "no-store"}


async def healthz(request: Request) -> Response:
    if await request.app.state.db.ping():
        return JSONResponse({"status": "ok"}, headers=NO_STORE)
    return JSONResponse(
        {"status": "unavailable", "database": "unreachable"},
        status_code=503,
        headers={**RETRY_AFTER, **NO_STORE},
    )


async def readyz(request: Request) -> Response:
    reason = await request.app.state.db.writable()
    if reason is None:
        return JSONResponse({"status": "ready"}, headers=NO_STORE)
    return JSONResponse(
        {"status": "unavailable", "reason": reason},
        status_code=503,
        headers={**RETRY_AFTER, **NO_STORE},
    )
