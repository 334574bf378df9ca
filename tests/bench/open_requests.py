"""Bench (e): many requests open at once, each waiting on a partner abroad: memory, and how fast
a partner's signed ``completed`` closes one.

The bench pack's erasures go to the CRM and to one OpenDSR partner that stays silent until the
bench, acting as that partner, signs and sends ``completed``. Memory is the proportional set size of
every process of the stack (ours, Temporal, Kafka, PostgreSQL) before, halfway and with the requests
open, each read once steady; the second half gives the marginal cost of one more open request.
Baseline (same run, same server): a bare workflow waiting for a signal, from the signal to its
completion.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
from aiokafka import AIOKafkaProducer

TENANT = "benchpartners"
SYSTEM = "notify-tangier"
PARTNER, DOMAIN = "jump-tangier", "opendsr.jump-tangier.example"
PACKS = Path(__file__).resolve().parent / "packs"


def pss_by_process(settings: Any) -> dict[str, int]:
    """Memory (bytes, proportional set size: shared pages split among their users, so PostgreSQL's
    shared buffers are not counted once per backend) of each process the stack started."""
    from infra.processes import ProcessSupervisor
    from infra.services import SERVICES
    from infra.stack import INFRA_PARTS

    supervisor = ProcessSupervisor(settings.state_dir)
    sizes = {}
    for name in (*INFRA_PARTS, *SERVICES):
        pid = supervisor.pid(name)
        if pid is not None:
            sizes[name] = _tree_pss(pid)
    return sizes


def _tree_pss(pid: int) -> int:
    total = 0
    pending = [pid]
    while pending:
        current = pending.pop()
        try:
            rollup = Path(f"/proc/{current}/smaps_rollup").read_text()
            total += (
                int(next(line for line in rollup.splitlines() if line.startswith("Pss:")).split()[1]) * 1024
            )
            children = Path(f"/proc/{current}/task/{current}/children").read_text().split()
        except (OSError, StopIteration):
            continue
        pending.extend(int(child) for child in children)
    return total


async def open_requests(settings: Any, count: int, progress: Callable[[str, int, int], None]) -> list[str]:
    """Publish ``count`` erasures and wait until each was sent to the partner."""
    from schemas import REQUESTS_TOPIC

    ids = [str(uuid.uuid4()) for _ in range(count)]
    producer = AIOKafkaProducer(bootstrap_servers=settings.kafka_bootstrap, acks="all", linger_ms=20)
    await producer.start()
    try:
        now = datetime.now(UTC).isoformat()
        for request_id in ids:
            value = {
                "request_id": request_id, "tenant": TENANT, "type": "erasure", "jurisdiction": "BE",
                "subject": {"email": f"open-{request_id[:8]}@example.org"}, "submitted_at": now,
            }  # fmt: skip
            await producer.send(REQUESTS_TOPIC, json.dumps(value).encode(), key=request_id.encode())
        await producer.flush()
    finally:
        await producer.stop()
    conn = await asyncpg.connect(settings.pg_dsn())
    try:
        sent = 0
        while sent < count:
            sent = await conn.fetchval(
                "SELECT count(*) FROM partner_requests"
                " WHERE request_id = ANY($1::uuid[]) AND status = 'pending'",
                ids,
            )
            progress("requests open at the partner", sent, count)
            await asyncio.sleep(1)
    finally:
        await conn.close()
    return ids


async def callbacks_to_close(
    settings: Any, ids: list[str], progress: Callable[[str, int, int], None]
) -> dict[str, Any]:
    """As the partner: sign and send ``completed`` for each, one at a time; time until closed."""
    from tests.bench.run import percentiles
    from workers.connectors.opendsr.protocol import callback_path
    from workers.connectors.opendsr.signatures import sign

    key = (settings.sandbox_dir / "partners" / PARTNER / "key.pem").read_bytes()
    url = settings.api_url + callback_path(TENANT, SYSTEM)
    conn = await asyncpg.connect(settings.pg_dsn())
    answered, closed = [], []
    queued = 0
    try:
        async with aiohttp.ClientSession() as http:
            for done, request_id in enumerate(ids, start=1):
                subject_request_id = await conn.fetchval(
                    "SELECT subject_request_id FROM partner_requests WHERE request_id = $1 AND system = $2",
                    uuid.UUID(request_id), SYSTEM,
                )  # fmt: skip
                body = json.dumps(
                    {"controller_id": "privacy-orchestrator", "subject_request_id": str(subject_request_id),
                     "request_status": "completed", "status_callback_url": url,
                     "expected_completion_time": datetime.now(UTC).isoformat(),
                     "sent_time": datetime.now(UTC).isoformat()}
                ).encode()  # fmt: skip
                headers = {"Content-Type": "application/json", "X-OpenDSR-Processor-Domain": DOMAIN,
                           "X-OpenDSR-Signature": sign(key, body)}  # fmt: skip
                started = time.time()
                async with http.post(url, data=body, headers=headers) as reply:
                    # 202: no worker took the Update in time, the callback went by Signal instead
                    assert reply.status in (200, 202), await reply.text()
                    queued += reply.status == 202
                answered.append(time.time() - started)
                while True:
                    row = await conn.fetchrow(
                        "SELECT status, closed_at FROM requests WHERE request_id = $1", uuid.UUID(request_id)
                    )
                    if row and row["status"] == "completed":
                        closed.append(row["closed_at"].timestamp() - started)
                        break
                    await asyncio.sleep(0.01)
                progress("signed completed → closed", done, len(ids))
    finally:
        await conn.close()
    return {
        "callbacks": len(ids),
        "callbacks_queued_by_signal": queued,
        "callback_answered_s": percentiles(answered),
        "callback_to_closed_s": percentiles(closed),
    }


async def bare_signal_to_close(settings: Any, count: int) -> dict[str, Any]:
    from temporalio.client import Client
    from temporalio.worker import Worker

    from tests.bench.noop import BenchWaiter
    from tests.bench.run import percentiles

    client = await Client.connect(settings.temporal_address)
    queue = f"bench-waiter-{uuid.uuid4()}"
    latencies = []
    async with Worker(client, task_queue=queue, workflows=[BenchWaiter]):
        handles = [
            await client.start_workflow(BenchWaiter.run, id=f"bench-waiter-{uuid.uuid4()}", task_queue=queue)
            for _ in range(count)
        ]
        for handle in handles:
            started = time.time()
            await handle.signal(BenchWaiter.done)
            await handle.result()
            latencies.append(time.time() - started)
    return {"workflows": count, "signal_to_closed_s": percentiles(latencies)}


async def steady_pss(settings: Any, settle: float | None = None, rounds: int = 12) -> dict[str, int]:
    """Memory of every process once it stopped moving: read every ``settle`` seconds until the
    total changes by less than 1 % (or ``rounds`` readings), so work still draining (a worker
    finishing its tasks, PostgreSQL's autovacuum, database connections the opening needed and
    the pools close once idle) is not counted as the open requests' cost."""
    from workers.ledger.requests import POOL_IDLE_SECONDS

    settle = POOL_IDLE_SECONDS + 2 if settle is None else settle
    last = pss_by_process(settings)
    for _ in range(rounds):
        await asyncio.sleep(settle)
        now = pss_by_process(settings)
        if abs(sum(now.values()) - sum(last.values())) < 0.01 * sum(last.values()):
            return now
        last = now
    return last


async def open_requests_bench(
    settings: Any, count: int, sample: int, progress: Callable[[str, int, int], None]
) -> dict[str, Any]:
    before = await steady_pss(settings)
    started = time.perf_counter()
    # In two halves: what the second half adds is the marginal cost of one more open request,
    # once the bounded caches (Temporal's, the worker's) and the connection pools are full.
    ids = await open_requests(settings, count // 2, progress)
    opened_seconds = time.perf_counter() - started
    halfway = await steady_pss(settings)
    started = time.perf_counter()
    ids += await open_requests(settings, count - count // 2, progress)
    opened_seconds += time.perf_counter() - started
    with_open = await steady_pss(settings)
    baseline = await bare_signal_to_close(settings, sample)
    ours = await callbacks_to_close(settings, ids[:sample], progress)
    grown = {name: with_open[name] - before.get(name, 0) for name in with_open}
    second_half = count - count // 2
    marginal = {name: (with_open[name] - halfway.get(name, 0)) / second_half for name in with_open}
    # At the 10,000 when fewer were opened: what was measured, plus the marginal cost
    # of each request not opened (an estimate; ``open_requests`` says how many really were).
    at_10000 = (sum(grown.values()) + sum(marginal.values()) * max(10_000 - count, 0)) / max(count, 10_000)
    ratio = ours["callback_to_closed_s"]["p50"] / max(baseline["signal_to_closed_s"]["p50"], 1e-6)
    return {
        "open_requests": count,
        "opened_seconds": round(opened_seconds, 1),
        "opened_per_s": round(count / opened_seconds, 2),
        "memory_before_mb": {k: round(v / 2**20, 1) for k, v in before.items()},
        "memory_with_open_mb": {k: round(v / 2**20, 1) for k, v in with_open.items()},
        "memory_growth_per_open_request_kb": round(sum(grown.values()) / count / 1024, 1),
        "memory_growth_per_open_request_kb_by_process": {
            name: round(grown[name] / count / 1024, 1) for name in sorted(grown)
        },
        "memory_halfway_mb": {k: round(v / 2**20, 1) for k, v in halfway.items()},
        "memory_marginal_per_open_request_kb": round(sum(marginal.values()) / 1024, 1),
        "memory_marginal_per_open_request_kb_by_process": {
            name: round(marginal[name] / 1024, 1) for name in sorted(marginal)
        },
        "memory_per_request_at_10000_kb": round(at_10000 / 1024, 1),
        "bare_temporal": baseline,
        "ours": ours,
        "ratio_callback_to_closed_vs_bare_signal_p50": round(ratio, 2),
    }
