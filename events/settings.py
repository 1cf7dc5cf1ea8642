"""Configuration: one frozen object, read once from the environment.

Every field says what it is for; `python -m events --help` and the README list them.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from events.db import Database

DEFAULT_RATE_LIMITS = "register=120/60,signin=10/60,public=600/60,resend=10/600,resend-email=3/3600"


def _help(text: str) -> dict[str, str]:
    return {"help": text}


@dataclass(frozen=True, slots=True)
class Settings:
    database_url: str | None = field(
        default=None,
        metadata=_help("DATABASE_URL: postgresql://… of the server to use; unset: embedded."),
    )
    data_dir: Path = field(
        default=Path(".data"),
        metadata=_help("EVENTS_DATA_DIR: the embedded database and signing keys live here."),
    )
    base_url: str = field(
        default="http://127.0.0.1:8000",
        metadata=_help("EVENTS_BASE_URL: public URL used in links, mails and QR pages."),
    )
    smtp_url: str | None = field(
        default=None,
        metadata=_help("SMTP_URL: smtp://[user:password@]host:port; unset: mail is logged."),
    )
    mail_from: str = field(
        default="Events <events@localhost>",
        metadata=_help("EVENTS_MAIL_FROM: the From header of every mail."),
    )
    rate_limits: str = field(
        default=DEFAULT_RATE_LIMITS,
        metadata=_help(
            "EVENTS_RATE_LIMITS: name=requests/seconds per client address, comma separated;"
            " 'off' turns them off."
        ),
    )
    rate_limit_storage: str = field(
        default="memory://",
        metadata=_help(
            "EVENTS_RATE_LIMIT_STORAGE: where rate limits are counted: memory:// (each process"
            " on its own) or redis://host:port[/db] (shared by every process and node)."
        ),
    )
    forwarded_allow_ips: str = field(
        default="127.0.0.1",
        metadata=_help(
            "EVENTS_FORWARDED_ALLOW_IPS: addresses of the proxies whose X-Forwarded-For and"
            " X-Forwarded-Proto are believed (comma separated, CIDR or *): the client address"
            " that rate limits count is the one they forward."
        ),
    )
    db_pool_size: int = field(
        default=20,
        metadata=_help("EVENTS_DB_POOL_SIZE: database connections per worker process."),
    )
    db_statement_cache_size: int = field(
        default=100,
        metadata=_help(
            "EVENTS_DB_STATEMENT_CACHE_SIZE: prepared statements kept per connection;"
            " 0 behind PgBouncer in transaction pooling."
        ),
    )
    db_statement_timeout: float = field(
        default=10.0,
        metadata=_help(
            "EVENTS_DB_STATEMENT_TIMEOUT: seconds a statement may take before the request is"
            " answered 503 (keep it under the proxies' timeouts); 0 = no limit."
        ),
    )
    workers: int = field(
        default=0,
        metadata=_help("EVENTS_WORKERS: server worker processes; 0 means one per core."),
    )
    reply_address: str | None = field(
        default=None,
        metadata=_help(
            "EVENTS_REPLY_ADDRESS: e.g. events-reply@example.org; each invite's ORGANIZER is"
            " this address plus-addressed per registration, so declines in a calendar come back;"
            " unset: invites carry the organiser's own address."
        ),
    )
    inbound_smtp: str | None = field(
        default=None,
        metadata=_help(
            "EVENTS_INBOUND_SMTP: host:port (or lmtp://host:port) where the worker listens for"
            " calendar replies relayed to the reply address's domain."
        ),
    )
    inbound_imap: str | None = field(
        default=None,
        metadata=_help(
            "EVENTS_INBOUND_IMAP: imaps://user:password@host/INBOX, a mailbox the worker polls"
            " for calendar replies."
        ),
    )
    mail_worker: bool = field(
        default=True,
        metadata=_help(
            "EVENTS_MAIL_WORKER: 0 makes `serve` a web node only (as --no-worker): no mail"
            " delivery, no periodic jobs; run `python -m events worker` for those."
        ),
    )
    webhook_allow_private: bool = field(
        default=False,
        metadata=_help(
            "EVENTS_WEBHOOK_ALLOW_PRIVATE: 1 lets webhooks call private, loopback and"
            " link-local addresses and plain http (development and tests only)."
        ),
    )

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        return cls(
            database_url=env.get("DATABASE_URL") or None,
            data_dir=Path(env.get("EVENTS_DATA_DIR") or ".data"),
            base_url=(env.get("EVENTS_BASE_URL") or "http://127.0.0.1:8000").rstrip("/"),
            smtp_url=env.get("SMTP_URL") or None,
            mail_from=env.get("EVENTS_MAIL_FROM") or "Events <events@localhost>",
            rate_limits=env.get("EVENTS_RATE_LIMITS") or DEFAULT_RATE_LIMITS,
            rate_limit_storage=env.get("EVENTS_RATE_LIMIT_STORAGE") or "memory://",
            forwarded_allow_ips=env.get("EVENTS_FORWARDED_ALLOW_IPS") or "127.0.0.1",
            db_pool_size=int(env.get("EVENTS_DB_POOL_SIZE") or 20),
            db_statement_cache_size=int(env.get("EVENTS_DB_STATEMENT_CACHE_SIZE") or 100),
            db_statement_timeout=float(env.get("EVENTS_DB_STATEMENT_TIMEOUT") or 10),
            workers=int(env.get("EVENTS_WORKERS") or 0),
            reply_address=env.get("EVENTS_REPLY_ADDRESS") or None,
            inbound_smtp=env.get("EVENTS_INBOUND_SMTP") or None,
            inbound_imap=env.get("EVENTS_INBOUND_IMAP") or None,
            mail_worker=(env.get("EVENTS_MAIL_WORKER") or "1") not in ("0", "false", "off"),
            webhook_allow_private=env.get("EVENTS_WEBHOOK_ALLOW_PRIVATE") == "1",
        )

    def database(self, url: str | None = None, *, pool_size: int | None = None) -> Database:
        """The pool these settings describe (on `url`, else `database_url`)."""
        from events.db import Database

        target = url or self.database_url
        if target is None:
            raise ValueError("no database URL (the CLI starts an embedded one)")
        return Database(
            target,
            pool_size=pool_size or self.db_pool_size,
            statement_cache_size=self.db_statement_cache_size,
            command_timeout=self.db_statement_timeout,
        )

    def replace(self, **changes: object) -> Settings:
        values = {f.name: getattr(self, f.name) for f in fields(self)}
        values.update(changes)
        return Settings(**values)  # type: ignore[arg-type]


def describe() -> str:
    """The environment variables, one line each, for --help and the README."""
    return "\n".join(f"  {f.metadata['help']}" for f in fields(Settings))
