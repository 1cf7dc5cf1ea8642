"""The production deployment of docs/deploy.md, run: two app nodes (`serve --no-worker`)
behind HAProxy (docs/deploy/haproxy.cfg), PgBouncer in transaction pooling
(docs/deploy/pgbouncer.ini, EVENTS_DB_STATEMENT_CACHE_SIZE=0) in front of a primary with a
streaming synchronous replica. A 2,000-attempt registration surge goes through the balancer
while one node is killed and then the primary is stopped and the replica promoted (PgBouncer
re-pointed and reloaded, as a failover hook does). Clients behave as docs/deploy.md tells
them: a 502/503/504 or a lost connection is sent again with the same Idempotency-Key.

Every 201 must be on the new primary, none twice, never more confirmed than the capacity,
and the service must answer again within 5 s of the promotion, without a restart.
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest

from tests import cluster
from tests.conftest import event_body
from tests.live_server import Server, server_env

ATTEMPTS = 2000
CAPACITY = 1200
CLIENTS = 40
KILL_NODE_AT = 500  # answered attempts
FAIL_OVER_AT = 1000


def _need_parts() -> None:
    reason = cluster.missing()
    if reason is None:
        return
    if os.environ.get("CI"):
        pytest.fail(f"the deployment test must run on CI: {reason}")
    pytest.skip(reason)


@dataclass
class Deployment:
    primary: cluster.PgNode
    replica: cluster.PgNode
    bouncer: cluster.PgBouncer
    nodes: list[Server]
    balancer: cluster.HAProxy
    token: str = ""

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.balancer.port}"

    def logs(self) -> str:
        parts = [f"--- {n.base}\n{_errors(n)}{n.output()[-2500:]}" for n in self.nodes]
        parts.append(f"--- pgbouncer\n{self.bouncer.log()[-2500:]}")
        parts.append(f"--- haproxy\n{self.balancer.output()[-1500:]}")
        return "\n".join(parts)


def _errors(node: Server) -> str:
    """What unexpected errors a node logged: each one's exception line, once."""
    node.log.flush()
    node.log.seek(0)
    found: list[str] = []
    inside = False
    for line in node.log.read().splitlines():
        if line.startswith("unhandled error"):
            inside = True
        elif inside and line and not line[0].isspace() and not line.startswith("Traceback"):
            inside = False
            if line not in found:
                found.append(line)
    return "".join(f"unhandled: {line}\n" for line in found)


@pytest.fixture(scope="module")
def deployment() -> Iterator[Deployment]:
    _need_parts()
    with tempfile.TemporaryDirectory(prefix="events-deploy-") as name:
        folder = Path(name)
        os.chmod(folder, 0o755)
        primary = cluster.PgNode(folder, "primary")
        replica = cluster.PgNode(folder, "replica")
        bouncer = cluster.PgBouncer(folder, "events")
        nodes: list[Server] = []
        balancer: cluster.HAProxy | None = None
        try:
            primary.init_primary(sync_standby=replica.name)
            primary.start()
            replica.init_replica(primary)
            replica.start()
            primary.psql("CREATE DATABASE events")
            assert primary.psql(
                "SELECT sync_state FROM pg_stat_replication WHERE application_name = 'replica'"
            ) in ("sync", "quorum")
            bouncer.point_at(primary.port)
            bouncer.start()
            env = {
                **server_env(bouncer.url()),
                "EVENTS_DB_STATEMENT_CACHE_SIZE": "0",
                "EVENTS_DB_POOL_SIZE": "10",
                "EVENTS_FORWARDED_ALLOW_IPS": "127.0.0.1",
            }
            nodes = [
                Server(env, folder, "--no-worker", "--workers", "1", base_url=False)
                for _ in range(2)
            ]
            for node in nodes:
                node.wait_healthy()
            balancer = cluster.HAProxy(folder, [n.port for n in nodes])
            balancer.start()
            deployment = Deployment(primary, replica, bouncer, nodes, balancer)
            yield deployment
        finally:
            for node in nodes:
                node.kill()
            if balancer is not None:
                balancer.stop()
            bouncer.stop()
            replica.stop_quietly()
            primary.stop_quietly()


# --- the surge -------------------------------------------------------------------------------


@dataclass
class Surge:
    """What the clients saw: the final answer to every attempt, and when things happened."""

    answered: int = 0
    created: dict[int, str] = field(default_factory=dict)  # attempt → registration id
    full: set[int] = field(default_factory=set)
    transient: dict[str, int] = field(default_factory=dict)  # "503 outcome-unknown" → count
    other: list[tuple[int, int, str]] = field(default_factory=list)
    created_at: list[float] = field(default_factory=list)  # monotonic time of each 201
    milestones: dict[int, asyncio.Event] = field(default_factory=dict)  # answered → reached

    def one_more(self) -> None:
        self.answered += 1
        reached = self.milestones.get(self.answered)
        if reached is not None:
            reached.set()

    async def reach(self, answered: int) -> None:
        await self.milestones.setdefault(answered, asyncio.Event()).wait()


async def _attempt(client: httpx.AsyncClient, url: str, n: int, surge: Surge) -> None:
    """One attendee: retried with the same Idempotency-Key until the answer is definite."""
    body = {"name": f"Attendee {n}", "email": f"attendee{n}@example.org"}
    headers = {"Idempotency-Key": f"surge-{n}-{secrets.token_hex(4)}"}
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        try:
            response = await client.post(url, json=body, headers=headers)
        except httpx.TransportError as exc:
            status, lost = 0, exc.__class__.__name__
        else:
            status, lost = response.status_code, ""
        if status == 201:
            surge.created[n] = response.json()["id"]
            surge.created_at.append(time.monotonic())
            break
        if status == 409 and response.json()["type"].endswith("/event-full"):
            surge.full.add(n)
            break
        if status in (0, 502, 503, 504):
            kind = f"lost ({lost})"
            if status:
                assert response.headers["content-type"] == "application/problem+json"
                assert response.headers["retry-after"]
                kind = f"{status} {response.json()['type'].rsplit('/', 1)[-1]}"
            surge.transient[kind] = surge.transient.get(kind, 0) + 1
            await asyncio.sleep(0.2)  # a client backing off (shorter than Retry-After)
            continue
        surge.other.append((n, status, response.text[:300]))
        break
    surge.one_more()


async def _surge(deployment: Deployment, event_id: str, surge: Surge) -> None:
    url = f"{deployment.base}/api/v1/events/{event_id}/registrations"
    queue: asyncio.Queue[int] = asyncio.Queue()
    for n in range(ATTEMPTS):
        queue.put_nowait(n)
    limits = httpx.Limits(max_connections=CLIENTS)
    async with httpx.AsyncClient(timeout=30, limits=limits) as client:

        async def one_client() -> None:
            while not queue.empty():
                await _attempt(client, url, queue.get_nowait(), surge)

        await asyncio.gather(*(one_client() for _ in range(CLIENTS)))


async def _fail_over(deployment: Deployment, surge: Surge) -> float:
    """Kill a node, then stop the primary and promote the replica; returns when the
    promotion (and PgBouncer's reload) was done."""
    await surge.reach(KILL_NODE_AT)
    deployment.nodes[0].process.kill()
    await surge.reach(FAIL_OVER_AT)
    await asyncio.to_thread(deployment.primary.stop, "immediate")
    await asyncio.sleep(0.5)  # the failover manager noticing (Patroni takes longer)
    await asyncio.to_thread(deployment.replica.promote)
    await asyncio.to_thread(deployment.bouncer.point_at, deployment.replica.port)
    return time.monotonic()


async def _create_event(deployment: Deployment) -> str:
    async with httpx.AsyncClient(base_url=deployment.base, timeout=30) as client:
        auth = {"Authorization": f"Bearer {deployment.token}"}
        body = event_body(capacity=CAPACITY, waitlist=False)
        created = await client.post("/api/v1/events", json=body, headers=auth)
        assert created.status_code == 201, created.text
        event_id: str = created.json()["id"]
        published = await client.post(f"/api/v1/events/{event_id}/publish", headers=auth)
        assert published.status_code == 200, published.text
        return event_id


async def _stored(deployment: Deployment, event_id: str) -> dict[str, Any]:
    conn = await asyncpg.connect(deployment.replica.url("events"))
    try:
        assert await conn.fetchval("SELECT NOT pg_is_in_recovery()")
        rows = await conn.fetch(
            "SELECT id::text, email, status FROM registrations WHERE event_id = $1", event_id
        )
        shards = await conn.fetch(
            "SELECT capacity, confirmed FROM seat_shards WHERE event_id = $1", event_id
        )
    finally:
        await conn.close()
    return {"rows": rows, "shards": shards}


def _partner_token(deployment: Deployment) -> str:
    """`partner create` through PgBouncer: the CLI works there too."""
    done = subprocess.run(
        [sys.executable, "-m", "events", "partner", "create", "--slug", "surge", "--name", "S"],
        env=deployment.nodes[1].env,
        cwd=cluster.ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    token: str = json.loads(done.stdout)["token"]
    return token


def _migrate_by_multi_host_url(deployment: Deployment) -> Any:
    old, new = deployment.primary.port, deployment.replica.port
    url = f"postgresql://postgres@127.0.0.1:{old},127.0.0.1:{new}/events"
    done = subprocess.run(
        [sys.executable, "-m", "events", "migrate"],
        env={**server_env(url + "?target_session_attrs=read-write")},
        cwd=cluster.ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.slow
async def test_a_surge_through_a_node_kill_and_a_failover(deployment: Deployment) -> None:
    deployment.token = await asyncio.to_thread(_partner_token, deployment)
    async with httpx.AsyncClient(base_url=deployment.base) as client:
        assert (await client.get("/readyz")).json() == {"status": "ready"}
    event_id = await _create_event(deployment)

    surge = Surge()
    for milestone in (KILL_NODE_AT, FAIL_OVER_AT):
        surge.milestones[milestone] = asyncio.Event()
    started = time.monotonic()
    surging = asyncio.create_task(_surge(deployment, event_id, surge))
    promoted_at = await _fail_over(deployment, surge)
    await surging
    took = time.monotonic() - started
    stored = await _stored(deployment, event_id)

    report = (
        f"{took:.1f}s, {len(surge.created)} created, {len(surge.full)} full,"
        f" retried {surge.transient}, other {surge.other[:3]}"
    )
    assert surge.answered == ATTEMPTS and not surge.other, report + deployment.logs()
    # every 201 is on the new primary, exactly once; nothing stored that was not answered
    acknowledged = sorted(surge.created.values())
    assert len(set(acknowledged)) == len(acknowledged), "a registration answered twice"
    assert sorted(r["id"] for r in stored["rows"]) == acknowledged, report
    assert {r["status"] for r in stored["rows"]} == {"confirmed"}
    # the capacity held, to the seat
    assert len(acknowledged) == CAPACITY and len(surge.full) == ATTEMPTS - CAPACITY, report
    assert sum(s["confirmed"] for s in stored["shards"]) == CAPACITY
    assert all(s["confirmed"] <= s["capacity"] for s in stored["shards"])
    # service again within 5 s of the promotion, with no restart of the surviving node
    after = [t - promoted_at for t in surge.created_at if t > promoted_at]
    assert after, f"nothing was registered after the promotion: {report}\n{deployment.logs()}"
    assert min(after) < 5, f"first registration {min(after):.1f}s after the promotion; {report}"
    assert deployment.nodes[1].process.poll() is None  # not restarted: it never stopped
    assert deployment.nodes[0].process.poll() is not None  # the killed one stayed dead
    assert sum(surge.transient.values()) > 0, "the kill and the failover went unnoticed?"
    async with httpx.AsyncClient(base_url=deployment.base) as client:
        assert (await client.get("/readyz")).json() == {"status": "ready"}
    # without PgBouncer, a multi-host URL finds the new primary by itself (the CLI here)
    assert await asyncio.to_thread(_migrate_by_multi_host_url, deployment) == {"applied": []}
    # with no node left, the balancer's own answer is problem+json too
    deployment.nodes[1].process.kill()
    async with httpx.AsyncClient(base_url=deployment.base) as client:
        gone = await client.get("/api/v1/events")
    assert gone.status_code == 503 and gone.headers["retry-after"]
    assert gone.headers["content-type"] == "application/problem+json"
    assert gone.json()["type"].endswith("/service-unavailable")
    print(f"\ndeployment surge: {report}; first 201 {min(after):.2f}s after the promotion")
