"""scripts/bench: measure the service against the floor of its own stack, in one run.

It starts the service (`python -m events serve --workers N`, rate limits and the mail worker
off) and a thin floor endpoint (scripts/bench_floor.py: uvicorn + Starlette + msgspec + one
asyncpg INSERT into a plain table, exactly as PERFORMANCE.md defines it; the same endpoint
inserting into the registrations table is measured beside it, never instead) on a FRESH database, drives both with `wrk` (or, when wrk
is missing and cannot be installed, several Python client processes), and prints ONE JSON
object: per phase throughput, latency percentiles, status counts, the checks that capacity
held, peak worker memory, CPU of the server, the client and the rest of the machine, and
every figure as a ratio to the floor measured in the same run.

Phases (PERFORMANCE.md): the floor; the registration surge on one hot event (capacity
1,000, 2,000 attempts, 50 clients), repeated `--rounds` times on fresh events interleaved
with the floor; check-in (500 distinct scans from 20 devices plus 100 duplicates, as fast as the
devices can, then again on other tickets paced like a busy door); QR PNG,
SVG and calendar files per second (each URL twice: first generation, then again); the floor
again with twice the clients, which shows whether the client or the server is the limit.

    scripts/bench [--workers N] [--rounds 3] [--waitlist] [--client wrk|python] ...
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))  # benchkit, beside this file

from benchkit.common import ROOT, SCRIPTS, has_path, log, ratio, summary
from benchkit.db import create_partner, fresh_database
from benchkit.load import Load, ensure_wrk
from benchkit.phases import (
    checkin_phase,
    device_phase,
    files_phase,
    memory_report,
    profiled,
    registrations,
    verify_capacity,
)
from benchkit.procs import MemorySampler, Server, free_port
from benchkit.setup import call, make_event, must


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="scripts/bench", description=__doc__.split("\n\n")[0])
    p.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    p.add_argument("--rounds", type=int, default=3, help="floor + surge pairs (median reported)")
    p.add_argument("--capacity", type=int, default=1000)
    p.add_argument("--attempts", type=int, default=2000)
    p.add_argument("--clients", type=int, default=50)
    p.add_argument("--scans", type=int, default=500)
    p.add_argument("--devices", type=int, default=20)
    p.add_argument("--duplicates", type=int, default=100)
    p.add_argument(
        "--scan-interval-ms",
        type=int,
        default=100,
        help="paced check-in: each device scans every ~N ms (100: 10 a second per door)",
    )
    p.add_argument("--files", type=int, default=1000, help="QR/calendar files per kind")
    p.add_argument(
        "--device-verifies",
        type=int,
        default=1000,
        help="tickets the scanner page verifies in Chromium (0: skip; needs the test extra)",
    )
    p.add_argument("--warmup", type=int, default=400)
    p.add_argument("--waitlist", action="store_true", help="hot event with a waitlist")
    p.add_argument("--client", choices=["auto", "wrk", "python"], default="auto")
    p.add_argument("--client-procs", type=int, default=2, help="Python client processes")
    p.add_argument("--pool", type=int, default=10, help="database connections per process")
    p.add_argument(
        "--profile", metavar="DIR", help="py-spy record the workers during the surge and check-in"
    )
    p.add_argument("--keep", action="store_true", help="keep the database and the logs")
    args = p.parse_args(argv)

    wrk = ensure_wrk(args.client)
    workdir = Path(tempfile.mkdtemp(prefix="events-bench-"))
    load = Load(wrk, workdir, args.client_procs)
    started = time.monotonic()
    load_before = os.getloadavg()
    with fresh_database(args.keep) as (url, where):
        log(f"fresh database on {where}; logs in {workdir}")
        env = {
            **os.environ,
            "DATABASE_URL": url,
            "EVENTS_RATE_LIMITS": "off",
            "EVENTS_MAIL_WORKER": "0",
            "EVENTS_DB_POOL_SIZE": str(args.pool),
            "PYTHONPATH": str(ROOT),
        }
        port = free_port()
        app = Server(
            "service",
            [
                sys.executable,
                "-m",
                "events",
                "serve",
                "--workers",
                str(args.workers),
                "--port",
                str(port),
            ],
            env,
            port,
            workdir,
        )
        servers = [app]
        try:
            app.wait_ready("/healthz")
            token = create_partner(url)
            floor_event = make_event(port, token, "Floor", 0, False)
            floor_port = free_port()
            floor = Server(
                "floor",
                [
                    sys.executable,
                    "-m",
                    "uvicorn",
                    "bench_floor:app",
                    "--app-dir",
                    str(SCRIPTS),
                    "--port",
                    str(floor_port),
                    "--log-level",
                    "warning",
                    "--no-access-log",
                    *(["--workers", str(args.workers)] if args.workers > 1 else []),
                ],
                {**env, "BENCH_FLOOR_EVENT": floor_event},
                floor_port,
                workdir,
            )
            servers.append(floor)
            floor.wait_ready("/")
            sampler = MemorySampler(app)
            sampler.start()
            report = run_phases(args, load, app, floor, token, url)
            sampler.stop()
        finally:
            for server in servers:
                server.stop()
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)

    report["memory"] = memory_report(sampler, app)
    report["setup"] = {
        "command": " ".join(["scripts/bench", *(argv if argv is not None else sys.argv[1:])]),
        "workers": args.workers,
        "db_pool_per_process": args.pool,
        "cores": os.cpu_count(),
        "database": where,
        "client": "wrk" if wrk else "python",
        "loadavg_before": [round(x, 2) for x in load_before],
        "loadavg_after": [round(x, 2) for x in os.getloadavg()],
        "seconds": round(time.monotonic() - started, 1),
    }
    print(json.dumps(report, indent=2))
    return 0 if report["ok"] else 1


def run_phases(
    args: argparse.Namespace, load: Load, app: Server, floor: Server, token: str, url: str
) -> dict[str, Any]:
    port = app.port
    spec = must(call(port, "GET", "/api/v1/openapi.json"), 200)
    checks: dict[str, bool] = {}

    log("warming up both servers")
    warm = make_event(port, token, "Warm-up", 1_000_000, False)
    load.run(port, registrations(warm, "warm", args.warmup), args.clients, app)
    load.run(floor.port, registrations("", "warm", args.warmup, "/floor"), args.clients, floor)

    rounds: list[dict[str, Any]] = []
    hot_events: list[str] = []
    for n in range(args.rounds):
        log(f"round {n + 1}/{args.rounds}: floor, then the surge on a fresh hot event")
        floor_run = load.run(
            floor.port, registrations("", f"floor{n}", args.attempts, "/floor"), args.clients, floor
        )
        hot = make_event(port, token, f"Hot {n}", args.capacity, args.waitlist)
        hot_events.append(hot)
        with profiled(args.profile, app, f"surge{n}"):
            surge = load.run(port, registrations(hot, f"hot{n}", args.attempts), args.clients, app)
        surge["verified"] = verify_capacity(port, token, url, hot, args, spec)
        same_table = load.run(
            floor.port,
            registrations("", f"same{n}", args.attempts, "/floor-same-table"),
            args.clients,
            floor,
        )
        rounds.append(
            {"floor": summary(floor_run), "surge": summary(surge), "same": summary(same_table)}
        )
    for r in rounds:
        r["ratio"] = ratio(r["surge"]["throughput_per_s"], r["floor"]["throughput_per_s"])
        checks.setdefault("capacity_exact", True)
        checks["capacity_exact"] &= r["surge"]["verified"]["exact"]
    median = sorted(rounds, key=lambda r: r["ratio"])[len(rounds) // 2]
    floor_rps = median["floor"]["throughput_per_s"]
    floor_p99 = median["floor"]["latency_ms"]["p99"]

    def vs_floor(phase: dict[str, Any]) -> dict[str, Any]:
        phase["vs_floor"] = {
            "throughput": ratio(phase["throughput_per_s"], floor_rps),
            "p99": ratio(phase["latency_ms"]["p99"], floor_p99),
        }
        return phase

    report: dict[str, Any] = {
        "floor": median["floor"],
        "floor_same_table": {
            **median["same"],
            "note": "beside the floor, never instead: the same endpoint inserting into the"
            " service's registrations table (its indexes, key and trigger)",
            "vs_floor": {
                "throughput": ratio(median["same"]["throughput_per_s"], floor_rps),
                "p99": ratio(median["same"]["latency_ms"]["p99"], floor_p99),
            },
        },
        "surge": vs_floor(dict(median["surge"])),
        "rounds": [
            {
                "floor_per_s": r["floor"]["throughput_per_s"],
                "surge_per_s": r["surge"]["throughput_per_s"],
                "ratio": r["ratio"],
                "surge_p99_ms": r["surge"]["latency_ms"]["p99"],
                "floor_p99_ms": r["floor"]["latency_ms"]["p99"],
                "same_table_per_s": r["same"]["throughput_per_s"],
                "confirmed": r["surge"]["verified"]["confirmed_db"],
            }
            for r in rounds
        ],
    }

    checkin_path = "/api/v1/events/{event_id}/checkins"
    if has_path(spec, checkin_path):
        with profiled(args.profile, app, "checkin"):
            report["checkin"] = vs_floor(checkin_phase(args, load, app, token, hot_events[0]))
        checks["checkin_exact"] = report["checkin"]["verified"]["exact"]
    else:
        report["checkin"] = {"skipped": f"{checkin_path} is not served yet"}

    report["device"] = device_phase(args, app, token, hot_events[0])
    report["files"] = files_phase(args, load, app, token, hot_events[0], floor_rps)

    log("floor again at twice the clients: is the client the limit?")
    wide = load.run(
        floor.port,
        registrations("", "floorwide", args.attempts, "/floor"),
        2 * args.clients,
        floor,
    )
    wide_rps = wide["requests"] / wide["duration_s"]
    report["client_check"] = {
        "floor_per_s": {str(args.clients): floor_rps, str(2 * args.clients): round(wide_rps, 1)},
        "client_cores_during_floor": median["floor"]["cpu"]["client_cores"],
        "client_cores_during_surge": median["surge"]["cpu"]["client_cores"],
        "note": "the client is not the limit when it uses a fraction of a core and twice "
        "the clients give no more throughput",
    }
    surge = report["surge"]
    targets = {
        "surge_ratio_at_least_0.8": surge["vs_floor"]["throughput"] >= 0.8,
        "surge_p99_at_most_twice_the_floor": surge["vs_floor"]["p99"] <= 2,
        "capacity_exact": checks.get("capacity_exact", False),
    }
    if "latency_ms" in report["checkin"]:
        targets["checkin_paced_p99_under_20ms"] = (
            report["checkin"]["paced"]["latency_ms"]["p99"] < 20
        )
        targets["checkin_saturated_p99_under_20ms"] = report["checkin"]["latency_ms"]["p99"] < 20
        targets["checkin_exact"] = checks["checkin_exact"]
    for kind, figures in report["files"].items():
        if "per_core_per_s" in figures:
            targets[f"{kind}_1000_per_core_or_cached"] = (
                figures["per_core_per_s"] >= 1000 or figures["again_per_core_per_s"] >= 1000
            )
    if "per_ticket_ms" in report["device"]:
        targets["device_verify_under_1ms"] = report["device"]["per_ticket_ms"] < 1
    report["targets"] = targets
    report["ok"] = checks.get("capacity_exact", False) and checks.get("checkin_exact", True)
    return report


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    raise SystemExit(main())
