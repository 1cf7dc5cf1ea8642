"""scripts/bench runs end to end in a tiny configuration and prints one valid JSON object.

This checks the bench itself (it starts the service and the floor on a fresh database, drives
them, verifies capacity and check-in, and reports), not the performance targets: figures
are taken by running `scripts/bench` on a quiet machine, never in a timed unit test.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.slow
def test_bench_tiny_run_prints_one_json_object_with_exact_capacity() -> None:
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    server = os.environ.get("TEST_DATABASE_URL")
    if server:
        env["DATABASE_URL"] = server  # the bench makes (and drops) a fresh database there
    client = "wrk" if shutil.which("wrk") else "python"
    tiny = {
        "workers": 1,
        "rounds": 1,
        "capacity": 12,
        "attempts": 30,
        "clients": 4,
        "scans": 8,
        "devices": 2,
        "duplicates": 3,
        "files": 6,
        "device-verifies": 20,
        "warmup": 8,
        "pool": 3,
        "client": client,
    }
    argv = [sys.executable, str(ROOT / "scripts" / "bench.py")]
    argv += [f"--{name}={value}" for name, value in tiny.items()]
    done = subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(done.stdout)  # the whole of stdout is one JSON object

    surge = report["surge"]
    assert surge["requests"] == 30
    assert surge["statuses"] == {"201": 12, "409": 18}
    verified = surge["verified"]
    assert verified["exact"] is True
    assert verified["confirmed_db"] == verified["confirmed_list_api"] == 12
    assert verified["seat_counters"] == 12
    assert surge["throughput_per_s"] > 0
    assert set(surge["latency_ms"]) >= {"p50", "p95", "p99"}
    assert surge["vs_floor"]["throughput"] == round(
        surge["throughput_per_s"] / report["floor"]["throughput_per_s"], 3
    )
    assert report["floor"]["statuses"] == {"201": 30}
    # the heavier same-table floor is shown beside the plain one, and ratios are to the plain one
    same = report["floor_same_table"]
    assert same["statuses"] == {"201": 30}
    assert same["vs_floor"]["throughput"] == round(
        same["throughput_per_s"] / report["floor"]["throughput_per_s"], 3
    )
    assert report["rounds"][0]["confirmed"] == 12

    checkin = report["checkin"]
    if "skipped" not in checkin:
        assert checkin["verified"]["exact"] is True
        assert checkin["statuses"] == {"200": 8, "409": 3}
        assert checkin["paced"]["statuses"] == {"200": 4, "409": 3}  # the other 4 tickets
        assert checkin["verified"]["checked_in_stats_api"] == 12
    device = report["device"]
    if "skipped" not in device:  # the scanner page in Chromium verified every ticket it knows
        assert device["verified"] == 20 and device["per_ticket_ms"] > 0
        assert set(device["results"]) <= {"accepted", "already_checked_in"}

    memory = report["memory"]
    assert 0 < memory["peak_rss_mb_max_process"] < 1000
    assert report["setup"]["client"] == client
    assert report["client_check"]["floor_per_s"]["8"] > 0
    assert isinstance(report["targets"], dict)
    assert report["ok"] is True


def test_export_bench_tiny_run_reports_both_exports_and_a_whole_workbook() -> None:
    """`scripts/bench export` itself (its figures come from 200,000 registrations, by hand)."""
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    server = os.environ.get("TEST_DATABASE_URL")
    if server:
        env["DATABASE_URL"] = server
    argv = [sys.executable, str(ROOT / "scripts" / "bench_export.py"), "--registrations=1001"]
    done = subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(done.stdout)
    assert report["registrations"] == 1001
    for kind in ("csv", "xlsx"):
        run = report[kind]
        assert 0 < run["first_byte_s"] <= run["total_s"] + 0.01  # (totals are rounded to 0.01 s)
        assert 0 < run["first_mb_s"] <= run["total_s"] + 0.01
        assert run["server_rss_mb_peak"] >= run["server_rss_mb_before"] > 0
    assert report["xlsx"]["last_row"] == 1002  # the header and every registration
    assert len(report["load_average_1_5_15"]["before"]) == 3
