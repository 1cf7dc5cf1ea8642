"""Load: wrk, or several Python client processes when wrk is missing."""

from __future__ import annotations

import asyncio
import json
import os
import re
import resource
import shutil
import signal
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

from benchkit.common import SCRIPTS, Line, log
from benchkit.procs import Server, cpu_seconds, machine_busy_seconds


def ensure_wrk(choice: str) -> str | None:
    """The wrk binary, installing the Debian package when we are root; None: Python clients."""
    if choice == "python":
        return None
    found = shutil.which("wrk")
    if found is None and os.geteuid() == 0 and shutil.which("apt-get"):
        log("wrk is missing: apt-get install -y wrk")
        subprocess.run(["apt-get", "update", "-qq"], capture_output=True, check=False)
        subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], capture_output=True, check=False)
        found = shutil.which("wrk")
    if found is None and choice == "wrk":
        raise SystemExit("wrk is not installed (apt-get install wrk), try --client python")
    if found is None:
        log("wrk not available: using Python client processes")
    return found


class Load:
    """Sends a list of requests, each once, over `connections` keep-alive connections."""

    def __init__(self, wrk: str | None, workdir: Path, client_procs: int) -> None:
        self.wrk, self.workdir, self.client_procs = wrk, workdir, client_procs
        self.runs = 0

    def run(
        self, port: int, lines: list[Line], connections: int, server: Server, *, pace_ms: int = 0
    ) -> dict[str, Any]:
        """`pace_ms` > 0: each connection waits a random 0.5-1.5 x pace_ms before each request."""
        connections = max(1, min(connections, len(lines)))
        workers = server.workers()
        server_cpu0, machine0 = cpu_seconds(workers), machine_busy_seconds()
        client0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        if self.wrk:
            result = self._wrk(port, lines, connections, pace_ms)
        else:
            result = python_load(port, lines, connections, self.client_procs, pace_ms)
        client1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        seconds = result["duration_s"]
        server_cpu = cpu_seconds(workers) - server_cpu0
        client_cpu = (client1.ru_utime + client1.ru_stime) - (client0.ru_utime + client0.ru_stime)
        machine = machine_busy_seconds() - machine0
        result["cpu"] = {
            "server_cores": round(server_cpu / seconds, 2),
            "client_cores": round(client_cpu / seconds, 2),
            "rest_cores": round(max(0.0, machine - server_cpu - client_cpu) / seconds, 2),
            "server_cpu_ms_per_request": round(1000 * server_cpu / max(1, result["requests"]), 3),
        }
        result["server_cpu_s"] = server_cpu
        return result

    def _wrk(self, port: int, lines: list[Line], connections: int, pace_ms: int) -> dict[str, Any]:
        assert self.wrk is not None
        self.runs += 1
        threads = min(2, connections)
        connections -= connections % threads
        path = self.workdir / f"requests-{self.runs}.tsv"
        path.write_text("".join("\t".join(line) + "\n" for line in lines))
        # a hard cap: lost requests (errors) end it
        budget = max(20, len(lines) // 40, 3 * pace_ms * len(lines) // connections // 1000)
        argv = [
            self.wrk,
            f"-t{threads}",
            f"-c{connections}",
            f"-d{budget}s",
            "--timeout",
            "30s",
            "-s",
            str(SCRIPTS / "wrk" / "requests.lua"),
            f"http://127.0.0.1:{port}",
            "--",
            str(path),
            str(threads),
            str(pace_ms),
        ]
        done = run_wrk(argv, threads, budget)
        match = re.search(r"^WRK-JSON (.*)$", done.stdout, re.MULTILINE)
        if match is None:
            raise SystemExit(f"wrk failed: {done.stdout}\n{done.stderr}")
        raw = json.loads(match.group(1))
        ms = {k: v / 1000 for k, v in raw["latency_us"].items()}
        errors = {k: v for k, v in raw["errors"].items() if v}
        if raw["requests"] < len(lines):
            errors["unanswered"] = len(lines) - raw["requests"]
        return {
            "requests": raw["requests"],
            "duration_s": raw["duration_us"] / 1e6,
            "statuses": dict(sorted(raw["statuses"].items())),
            "latency_ms": {k: round(ms[k], 2) for k in ("p50", "p95", "p99", "max")},
            "errors": errors,
            "connections": connections,
            "client": f"wrk -t{threads} -c{connections}",
        }


def run_wrk(argv: list[str], threads: int, budget: int) -> subprocess.CompletedProcess[str]:
    """Run wrk until each of its threads has said it is done, then interrupt it (SIGINT)."""
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.stderr is not None
    timer = threading.Timer(budget + 10, proc.kill)
    timer.start()
    finished, other = 0, []
    for line in proc.stderr:
        if line.strip() == "WRK-THREAD-DONE":
            finished += 1
            if finished == threads:
                proc.send_signal(signal.SIGINT)
        else:
            other.append(line)
    stdout = proc.stdout.read() if proc.stdout else ""
    proc.wait()
    timer.cancel()
    return subprocess.CompletedProcess(argv, proc.returncode, stdout, "".join(other))


def python_load(
    port: int, lines: list[Line], connections: int, procs: int, pace_ms: int = 0
) -> dict[str, Any]:
    """The fallback client: `procs` processes, each with its share of the connections."""
    import multiprocessing

    procs = max(1, min(procs, connections))
    ctx = multiprocessing.get_context("spawn")
    go, queue = ctx.Event(), ctx.Queue()
    ready = ctx.Semaphore(0)
    workers = [
        ctx.Process(
            target=_python_client,
            args=(port, lines[i::procs], connections // procs + (i < connections % procs), pace_ms),
            kwargs={"go": go, "ready": ready, "queue": queue},
        )
        for i in range(procs)
    ]
    for w in workers:
        w.start()
    for _ in workers:
        ready.acquire()
    go.set()
    parts = [queue.get() for _ in workers]
    for w in workers:
        w.join()
    latencies = sorted(x for p in parts for x in p["latencies"])
    statuses: dict[str, int] = {}
    for p in parts:
        for k, v in p["statuses"].items():
            statuses[k] = statuses.get(k, 0) + v
    duration = max(p["end"] for p in parts) - min(p["start"] for p in parts)

    def pct(q: float) -> float:
        return round(latencies[min(len(latencies) - 1, int(q * len(latencies)))] * 1000, 2)

    return {
        "requests": len(latencies),
        "duration_s": duration,
        "statuses": dict(sorted(statuses.items())),
        "latency_ms": {"p50": pct(0.5), "p95": pct(0.95), "p99": pct(0.99), "max": pct(1.0)},
        "errors": {},
        "connections": connections,
        "client": f"python x{procs} processes, {connections} connections",
    }


def _python_client(
    port: int, lines: list[Line], connections: int, pace_ms: int, **sync: Any
) -> None:
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    asyncio.run(_python_client_main(port, lines, connections, pace_ms, **sync))


async def _python_client_main(
    port: int, lines: list[Line], connections: int, pace_ms: int, *, go: Any, ready: Any, queue: Any
) -> None:
    import random
    from collections import deque

    todo = deque(_raw_request(port, line) for line in lines)
    latencies: list[float] = []
    statuses: dict[str, int] = {}
    streams = [await asyncio.open_connection("127.0.0.1", port) for _ in range(connections)]
    ready.release()
    await asyncio.get_running_loop().run_in_executor(None, go.wait)
    start = time.monotonic()

    async def drive(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while todo:
            if pace_ms:
                await asyncio.sleep(pace_ms * (0.5 + random.random()) / 1000)
                if not todo:
                    break
            raw = todo.popleft()
            t0 = time.monotonic()
            writer.write(raw)
            status = (await reader.readline()).split()[1].decode()
            length = 0
            while (header := await reader.readline()) not in (b"\r\n", b""):
                name, _, value = header.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value)
            await reader.readexactly(length)
            latencies.append(time.monotonic() - t0)
            statuses[status] = statuses.get(status, 0) + 1
        writer.close()

    await asyncio.gather(*(drive(r, w) for r, w in streams))
    queue.put(
        {"latencies": latencies, "statuses": statuses, "start": start, "end": time.monotonic()}
    )


def _raw_request(port: int, line: Line) -> bytes:
    method, path, token, body = line
    head = f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
    if token:
        head += f"Authorization: Bearer {token}\r\n"
    data = body.encode()
    if body:
        head += "Content-Type: application/json\r\n"
    head += f"Content-Length: {len(data)}\r\n\r\n"
    return head.encode() + data
