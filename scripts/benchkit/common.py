"""Shared by the bench modules: paths, the machine's clock ticks, logging."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]  # the repository
SCRIPTS = ROOT / "scripts"
LOCAL_SERVER = "postgresql://postgres@127.0.0.1:5432/postgres"
CLK_TCK = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")

Line = tuple[str, str, str, str]  # method, path, bearer token, JSON body


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def summary(result: dict[str, Any]) -> dict[str, Any]:
    out = {k: v for k, v in result.items() if k != "server_cpu_s"}
    out["throughput_per_s"] = round(result["requests"] / result["duration_s"], 1)
    out["duration_s"] = round(result["duration_s"], 3)
    return out


def ratio(value: float, floor: float) -> float:
    return round(value / floor, 3) if floor else 0.0


def has_path(spec: dict[str, Any], path: str) -> bool:
    return path in spec.get("paths", {})
