"""Processes the bench starts (the service, the floor), their CPU and their memory."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

from benchkit.common import CLK_TCK, PAGE, ROOT


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class Server:
    """A server process group we started; stopped by its own process group id."""

    def __init__(self, name: str, argv: list[str], env: dict[str, str], port: int, logs: Path):
        self.name, self.port = name, port
        self.log_path = logs / f"{name}.log"
        self._log = self.log_path.open("wb")
        self.proc = subprocess.Popen(
            argv,
            cwd=ROOT,
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def wait_ready(self, path: str, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                break
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}{path}", timeout=2):
                    return
            except urllib.error.HTTPError:
                return  # it answers
            except OSError:
                time.sleep(0.2)
        tail = self.log_path.read_text(errors="replace")[-3000:]
        raise SystemExit(f"{self.name} did not start:\n{tail}")

    def pids(self) -> list[int]:
        """The server's Python processes: the master and its workers (not embedded PostgreSQL)."""
        found = []
        for pid in [self.proc.pid, *descendants(self.proc.pid)]:
            try:
                cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
            except OSError:
                continue
            if b"python" in cmdline:
                found.append(pid)
        return found

    def workers(self) -> list[int]:
        """The processes that answer requests (the master alone when it serves itself)."""
        pids = self.pids()
        spawned = []
        for pid in pids:
            with contextlib.suppress(OSError):
                if b"spawn_main" in Path(f"/proc/{pid}/cmdline").read_bytes():
                    spawned.append(pid)
        return spawned or [self.proc.pid]

    def stop(self) -> None:
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(5)
        self._log.close()


def descendants(pid: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rpartition(")")[2].split()[1])
        children.setdefault(ppid, []).append(int(entry))
    out, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            out.append(child)
            todo.append(child)
    return out


def cpu_seconds(pids: list[int]) -> float:
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / CLK_TCK


def machine_busy_seconds() -> float:
    fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    values = [int(v) for v in fields]
    idle = values[3] + values[4]
    return (sum(values[:8]) - idle) / CLK_TCK


def rss_mb(pid: int) -> float:
    try:
        return int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * PAGE / 2**20
    except OSError:
        return 0.0


class MemorySampler(threading.Thread):
    """Samples the resident memory of every server process, 20 times a second."""

    def __init__(self, server: Server) -> None:
        super().__init__(daemon=True)
        self.server = server
        self.peak: dict[int, float] = {}
        self.peak_sum = 0.0
        self._stop_event = threading.Event()
        self._pids: list[int] = []
        self.workers: set[int] = set()
        self._pids_at = 0.0

    def run(self) -> None:
        while not self._stop_event.wait(0.05):
            if time.monotonic() - self._pids_at > 2:
                self._pids, self._pids_at = self.server.pids(), time.monotonic()
                self.workers.update(self.server.workers())
            sizes = {pid: rss_mb(pid) for pid in self._pids}
            for pid, size in sizes.items():
                self.peak[pid] = max(self.peak.get(pid, 0.0), size)
            self.peak_sum = max(self.peak_sum, sum(sizes.values()))

    def stop(self) -> None:
        self._stop_event.set()
        self.join()
