"""schemathesis against a live server (issues 20 and 23): every operation of the served
OpenAPI document, every check, a bounded number of examples, the stateful phase too, with a
throwaway partner token. The service must answer only what the document says it answers.

Bounded: `FUZZ_EXAMPLES` cases per operation (default 8) and `FUZZ_SECONDS` in all (default
60); set them higher for a longer hunt (e.g. FUZZ_EXAMPLES=100 FUZZ_SECONDS=600).
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from events.db import Database, migrate
from tests.conftest import Partner, make_partner
from tests.live_server import Server, create_database, drop_database, running, server_env

pytestmark = pytest.mark.slow

EXAMPLES = os.environ.get("FUZZ_EXAMPLES", "8")
SECONDS = os.environ.get("FUZZ_SECONDS", "60")


@pytest.fixture(scope="module")
async def fuzz_database(database_url: str) -> AsyncIterator[str]:
    url, name = await create_database(database_url, "events_fuzz")
    db = Database(url, pool_size=1)
    await db.connect()
    await migrate(db)
    await db.disconnect()
    yield url
    await drop_database(database_url, name)


@pytest.fixture(scope="module")
async def throwaway_partner(fuzz_database: str) -> Partner:
    db = Database(fuzz_database, pool_size=1)
    await db.connect()
    try:
        return await make_partner(db, "Fuzzer")
    finally:
        await db.disconnect()


@pytest.fixture(scope="module")
def fuzz_server(fuzz_database: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    env = server_env(fuzz_database)
    env.update(EVENTS_MAIL_WORKER="0")
    with running(Server(env, tmp_path_factory.mktemp("fuzz"), "--workers", "1")) as server:
        yield server


def schemathesis(server: Server, token: str, report: Path) -> subprocess.CompletedProcess[str]:
    st = Path(sys.executable).with_name("st")
    return subprocess.run(
        [
            str(st),
            "--config-file",
            str(Path(__file__).with_name("schemathesis.toml")),
            "run",
            f"{server.base}/api/v1/openapi.json",
            "--checks",
            "all",
            "--phases",
            "examples,coverage,fuzzing,stateful",
            "--max-examples",
            EXAMPLES,
            "--max-time",
            SECONDS,
            "--seed",
            "20",
            "--workers",
            "1",  # with more, hypothesis's threads trip over CPython 3.11's ast (a tool error)
            "--no-shrink",
            # a health check of the generator, not of the API: sessions' nested translations
            # and times inside the event leave few random bodies that the schema accepts
            "--suppress-health-check",
            "filter_too_much",
            "--generation-database",
            "none",
            "--request-timeout",
            "10",
            "-H",
            f"Authorization: Bearer {token}",
            "--report",
            "junit",
            "--report-dir",
            str(report),
            "--no-color",
            # Its own token is listed by GET /api/v1/tokens, and the stateful phase revokes it
            # (a partner may revoke the token it uses): every answer after that is a 401.
            # Revoking is tested in tests/test_hosting.py.
            "--exclude-path",
            "/api/v1/tokens/{token_id}/revoke",
        ],
        capture_output=True,
        text=True,
        timeout=int(SECONDS) * 3 + 120,
        cwd=report,  # its cache folder (.schemathesis/) stays out of the checkout
        env={**os.environ, "SCHEMATHESIS_HOOKS": ""},
    )


def test_the_served_contract_holds_under_fuzzing(
    fuzz_server: Server, throwaway_partner: Partner, tmp_path: Path
) -> None:
    result = schemathesis(fuzz_server, throwaway_partner.token, tmp_path)
    assert result.returncode == 0, result.stdout[-20_000:] + result.stderr[-3000:]
    assert "No issues found" in result.stdout or " passed" in result.stdout, result.stdout
    log = fuzz_server.output()
    assert "Traceback" not in log, log
