"""How a bench's requests arrive, and how long each takes from its publication to its closing.

Three arrivals: ``alone`` (each published once the previous one closed: one request's latency),
``burst`` (all published at one instant), ``spread`` (published at a fixed rate, as a real burst
arrives over its duration). Each request is stamped when its own event is sent, on a producer
started before the clock runs; closing times are the ledger's own ``closed_at``.

Why both bursts: with every request published at the same instant, even strict arrival-order
completion at a constant rate gives p50 publish→closed ≈ 0.5 × the wall time (the k-th request
cannot close before k / throughput), so a fairness target below 0.5 is only meaningful for
arrivals spread over the burst.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from typing import Any

import asyncpg
from aiokafka import AIOKafkaProducer

Progress = Callable[[str, int, int], None]
ARRIVALS = ("alone", "burst", "spread")


async def timed_requests(
    settings: Any,
    sent: list[dict[str, Any]],
    label: str,
    arrival: str,
    progress: Progress,
    rate: float | None = None,
) -> dict[str, Any]:
    """Publish ``sent`` as ``arrival`` says (``rate`` per second for ``spread``), wait until every
    one closed ``completed``, and time them."""
    from schemas import REQUESTS_TOPIC
    from tests.bench.run import percentiles

    if arrival not in ARRIVALS or (arrival == "spread" and not rate):
        raise ValueError(f"arrival must be one of {ARRIVALS}, spread with a rate")
    published: dict[str, float] = {}
    closed: dict[str, float] = {}
    ledger = await asyncpg.connect(settings.pg_dsn())
    producer = AIOKafkaProducer(bootstrap_servers=settings.kafka_bootstrap, acks="all")
    await producer.start()

    async def send(request: dict[str, Any]) -> Any:
        request_id = request["request_id"]
        published[request_id] = time.time()
        value = json.dumps(request).encode()
        return await producer.send(REQUESTS_TOPIC, value, key=request_id.encode())

    async def wait_for(ids: list[str]) -> None:
        # One query a poll for every open request, not the API's view of each: the bench must
        # not load the machine it measures.
        while any(i not in closed for i in ids):
            rows = await ledger.fetch(
                "SELECT request_id::text AS id, status, closed_at FROM requests"
                " WHERE request_id = ANY($1::uuid[]) AND closed_at IS NOT NULL",
                [i for i in ids if i not in closed],
            )
            for row in rows:
                if row["status"] != "completed":
                    raise AssertionError(f"{label}: request {row['id']} closed {row['status']}")
                closed[row["id"]] = row["closed_at"].timestamp()
            if rows:
                progress(label, len(closed), len(sent))
            await asyncio.sleep(0.05)

    ids = [r["request_id"] for r in sent]
    begin = time.perf_counter()
    try:
        if arrival == "alone":
            for request in sent:
                await (await send(request))
                await wait_for([request["request_id"]])
        elif arrival == "burst":
            stamp = time.time()
            deliveries = [await send(request) for request in sent]
            published.update(dict.fromkeys(ids, stamp))  # one instant: the first send's
            await asyncio.gather(*deliveries)
            await wait_for(ids)
        else:
            assert rate is not None
            waiting = asyncio.ensure_future(wait_for(ids))
            deliveries = []
            for n, request in enumerate(sent):
                await asyncio.sleep(max(0.0, begin + n / rate - time.perf_counter()))
                deliveries.append(await send(request))
            await asyncio.gather(*deliveries)
            await waiting
    finally:
        await producer.stop()
        await ledger.close()
    seconds = time.perf_counter() - begin
    started = await _started(settings, published)
    latencies = [closed[i] - published[i] for i in ids]
    return {
        "requests": len(sent),
        "arrival": arrival,
        **({"published_per_s": round(rate, 2)} if rate else {}),
        "publish_to_workflow_started_s": percentiles(started),
        "seconds": round(seconds, 3),
        "requests_per_s": round(len(sent) / seconds, 2),
        "publish_to_closed_s": percentiles(latencies),
        "fairness_p50_closed_over_wall": round(percentiles(latencies)["p50"] / seconds, 3),
        "closing_order_vs_arrival": _order_agreement(ids, closed),
        "ids": ids,
    }


async def _started(settings: Any, published: dict[str, float]) -> list[float]:
    """The intake's part for each request: publish → workflow started (Temporal's start time)."""
    from orchestrator.workflows.models import request_workflow_id
    from workers.runtime.temporal_client import connect

    client = await connect(settings)
    took = []
    for request_id, stamp in published.items():
        description = await client.get_workflow_handle(request_workflow_id(request_id)).describe()
        took.append(description.start_time.timestamp() - stamp)
    return took


def _order_agreement(ids: list[str], closed: dict[str, float]) -> float:
    """Kendall's tau between publication order and closing order: 1 is arrival order, 0 none."""
    times = [closed[i] for i in ids]
    n = len(times)
    if n < 2:
        return 1.0
    agree = sum(
        (times[j] > times[i]) - (times[j] < times[i]) for i in range(n) for j in range(i + 1, n)
    )
    return round(agree / (n * (n - 1) / 2), 3)
