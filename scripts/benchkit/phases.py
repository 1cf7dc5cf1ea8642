"""The phases after the surge: check-in, the door device, files, memory; and the checks."""

from __future__ import annotations

import argparse
import contextlib
import json
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from benchkit.common import ROOT, Line, has_path, log, ratio, summary
from benchkit.db import db_rows
from benchkit.load import Load
from benchkit.procs import MemorySampler, Server
from benchkit.setup import call, list_all, must


def registrations(event_id: str, tag: str, count: int, path: str | None = None) -> list[Line]:
    where = path or f"/api/v1/events/{event_id}/registrations"
    return [
        (
            "POST",
            where,
            "",
            json.dumps({"name": f"Bench {tag} {i}", "email": f"{tag}-{i}@bench.example.org"}),
        )
        for i in range(count)
    ]


@contextlib.contextmanager
def profiled(folder: str | None, server: Server, name: str) -> Iterator[None]:
    """py-spy (`pip install py-spy`) samples each worker meanwhile: raw collapsed stacks."""
    if not folder:
        yield
        return
    spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    Path(folder).mkdir(parents=True, exist_ok=True)
    procs = [
        subprocess.Popen(
            [
                spy,
                "record",
                "-p",
                str(pid),
                "-f",
                "raw",
                "-r",
                "250",
                "--nonblocking",
                "-o",
                f"{folder}/{name}-{pid}.txt",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for pid in server.workers()
    ]
    time.sleep(1)
    try:
        yield
    finally:
        for proc in procs:
            proc.send_signal(signal.SIGINT)
            proc.wait(30)


def verify_capacity(
    port: int, token: str, url: str, event_id: str, args: argparse.Namespace, spec: dict[str, Any]
) -> dict[str, Any]:
    """Confirmed == capacity, by the stats API (when served), the list API and the database."""
    db = db_rows(
        url,
        "SELECT count(*) FILTER (WHERE status = 'confirmed') AS confirmed,"
        " count(*) FILTER (WHERE status = 'waitlisted') AS waitlisted,"
        " (SELECT sum(confirmed) FROM seat_shards WHERE event_id = $1) AS seats"
        " FROM registrations WHERE event_id = $1",
        event_id,
    )[0]
    listed = list_all(port, token, f"/api/v1/events/{event_id}/registrations?status=confirmed")
    out: dict[str, Any] = {
        "capacity": args.capacity,
        "confirmed_db": db["confirmed"],
        "seat_counters": int(db["seats"] or 0),
        "confirmed_list_api": len(listed),
        "waitlisted_db": db["waitlisted"],
    }
    if has_path(spec, "/api/v1/events/{event_id}/stats"):
        stats = must(call(port, "GET", f"/api/v1/events/{event_id}/stats", token), 200)
        out["confirmed_stats_api"] = stats["confirmed"]
    expected = min(args.capacity, args.attempts)
    counted = [v for k, v in out.items() if k.startswith(("confirmed", "seat"))]
    out["exact"] = all(v == expected for v in counted)
    return out


def checkin_phase(
    args: argparse.Namespace, load: Load, app: Server, token: str, event_id: str
) -> dict[str, Any]:
    """Check-in twice, on distinct tickets: 20 devices as fast as they can (saturated: the
    latency is mostly queueing), then 20 devices paced like a busy door (--scan-interval-ms)."""
    port = app.port
    confirmed = list_all(port, token, f"/api/v1/events/{event_id}/registrations?status=confirmed")
    codes = [r["ticket"]["code"] for r in confirmed]
    doors = [
        must(
            call(
                port,
                "POST",
                f"/api/v1/events/{event_id}/door-tokens",
                token,
                {"label": f"Door {i}"},
            ),
            201,
        )["token"]
        for i in range(args.devices)
    ]
    saturated = codes[: args.scans]
    paced = codes[args.scans : 2 * args.scans]
    log(f"check-in: {len(saturated)} scans + {args.duplicates} duplicates, {args.devices} devices")
    result = _scans(args, load, app, event_id, doors, saturated, pace_ms=0)
    interval = args.scan_interval_ms
    log(f"check-in paced: {len(paced)} scans, each device every ~{interval} ms")
    result["paced"] = _scans(args, load, app, event_id, doors, paced, pace_ms=interval)
    result["paced"]["scans_per_s_offered"] = round(args.devices * 1000 / interval, 1)
    stats = must(call(port, "GET", f"/api/v1/events/{event_id}/stats", token), 200)
    result["verified"] = {
        "accepted": result["accepted"] + result["paced"]["accepted"],
        "duplicates_refused": result["duplicates_refused"] + result["paced"]["duplicates_refused"],
        "checked_in_stats_api": stats.get("checked_in"),
        "exact": result["exact"]
        and result["paced"]["exact"]
        and stats.get("checked_in") == len(saturated) + len(paced),
    }
    return result


def _scans(
    args: argparse.Namespace,
    load: Load,
    app: Server,
    event_id: str,
    doors: list[str],
    codes: list[str],
    *,
    pace_ms: int,
) -> dict[str, Any]:
    """Scan `codes` and the first --duplicates of them again; every first scan must be
    accepted and every second one refused."""
    path = f"/api/v1/events/{event_id}/checkins"
    scans = codes + codes[: args.duplicates]
    lines = [
        (
            "POST",
            path,
            doors[i % len(doors)],
            json.dumps({"code": code, "device": f"door-{i % len(doors)}"}),
        )
        for i, code in enumerate(scans)
    ]
    result = summary(load.run(app.port, lines, args.devices, app, pace_ms=pace_ms))
    result["accepted"] = result["statuses"].get("200", 0)
    result["duplicates_refused"] = result["statuses"].get("409", 0)
    result["exact"] = result["accepted"] == len(codes) and result["duplicates_refused"] == len(
        scans
    ) - len(codes)
    return result


DEVICE_JS = """async (codes) => {
  const started = performance.now();
  const results = {};
  for (const code of codes) {
    const verdict = await window.scanner.verify(code);
    results[verdict.result] = (results[verdict.result] || 0) + 1;
  }
  return { ms: performance.now() - started, results };
}"""


def device_phase(
    args: argparse.Namespace, app: Server, token: str, event_id: str
) -> dict[str, Any]:
    """The door scanner page in headless Chromium verifies tickets as it does offline (the
    signature with WebCrypto Ed25519 against the check-in kit): the time per ticket."""
    chromium = Path("/usr/bin/chromium")
    if not args.device_verifies:
        return {"skipped": "--device-verifies 0"}
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        return {"skipped": "playwright is not installed (scripts/test installs it)"}
    if not chromium.exists():
        return {"skipped": f"{chromium} is missing (scripts/test installs it)"}
    sys.path.insert(0, str(ROOT))
    from tests.live_server import CHROMIUM_ARGS

    port = app.port
    log(f"device: {args.device_verifies} tickets verified by the scanner page in Chromium")
    path = f"/api/v1/events/{event_id}/registrations?status=confirmed"
    codes = [r["ticket"]["code"] for r in list_all(port, token, path)]
    codes = (codes * (args.device_verifies // max(1, len(codes)) + 1))[: args.device_verifies]
    door = must(
        call(port, "POST", f"/api/v1/events/{event_id}/door-tokens", token, {"label": "Bench"}),
        201,
    )["token"]
    with sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=str(chromium), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            page.goto(f"http://127.0.0.1:{port}/scan?token={door}")
            page.wait_for_function("() => window.scanner && window.scanner.ready()", timeout=30_000)
            page.evaluate(DEVICE_JS, codes[:20])  # warm up
            measured = page.evaluate(DEVICE_JS, codes)
        finally:
            browser.close()
    return {
        "verified": len(codes),
        "results": measured["results"],
        "per_ticket_ms": round(measured["ms"] / len(codes), 3),
        "kit_names": len(set(codes)),
    }


def files_phase(
    args: argparse.Namespace, load: Load, app: Server, token: str, event_id: str, floor_rps: float
) -> dict[str, Any]:
    """QR PNG, QR SVG and calendar invites of distinct registrations: made, then again."""
    port = app.port
    confirmed = list_all(port, token, f"/api/v1/events/{event_id}/registrations?status=confirmed")
    mine = confirmed[: args.files]  # their links carry each attendee's access token
    out: dict[str, Any] = {}
    kinds = {"qr_png": "qr.png", "qr_svg": "qr.svg", "calendar": "invite.ics"}
    for kind, suffix in kinds.items():
        urls = [file_url(r, kind) for r in mine]
        urls = [u for u in urls if u]
        if not urls:
            out[kind] = {"skipped": "no URLs"}
            continue
        probe = call(port, "GET", urls[0])
        if probe[0] != 200:
            out[kind] = {"skipped": f"{suffix} answers {probe[0]}"}
            continue
        log(f"files: {len(urls)} x {kind}, twice")
        lines = [("GET", u, "", "") for u in urls]
        first = load.run(port, lines, args.clients, app)
        again = load.run(port, lines, args.clients, app)
        per_core = first["requests"] / max(first["server_cpu_s"], 1e-6)
        again_per_core = again["requests"] / max(again["server_cpu_s"], 1e-6)
        figures = summary(first)
        figures["per_core_per_s"] = round(per_core, 1)
        figures["again_per_s"] = round(again["requests"] / again["duration_s"], 1)
        figures["again_per_core_per_s"] = round(again_per_core, 1)
        figures["again_p99_ms"] = again["latency_ms"]["p99"]
        figures["vs_floor"] = {"throughput": ratio(figures["throughput_per_s"], floor_rps)}
        out[kind] = figures
    return out


def file_url(registration: dict[str, Any], kind: str) -> str | None:
    if kind == "calendar":
        link = registration.get("calendar")
    else:
        link = (registration.get("ticket") or {}).get(kind)
    if not link:
        return None
    if link.startswith("http"):
        link = "/" + link.split("/", 3)[3]
    return str(link)


def memory_report(sampler: MemorySampler, app: Server) -> dict[str, Any]:
    master = app.proc.pid
    workers = {pid: mb for pid, mb in sampler.peak.items() if pid in sampler.workers}
    return {
        "peak_rss_mb_per_worker": sorted(round(v, 1) for v in workers.values()),
        "peak_rss_mb_max_process": round(max(sampler.peak.values(), default=0.0), 1),
        "peak_rss_mb_master": round(sampler.peak.get(master, 0.0), 1),
        "peak_rss_mb_sum": round(sampler.peak_sum, 1),
        "under_150mb_per_process": max(sampler.peak.values(), default=0.0) < 150,
    }
