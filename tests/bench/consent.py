"""Bench (d): consent events per second, ingested and propagated, against raw Kafka in the same run.

Baseline: the same events produced to a scratch topic and read back by a plain aiokafka
consumer — the most any Kafka intake could do on this broker and machine. Ours: the events
on privacy.consent.v1 until every system has confirmed every withdrawal (per-subject evidence
rows in the ledger), and until every change is recorded (ingested).
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import asyncpg
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

PURPOSES = ["marketing", "marketing.advertising"]
SYSTEMS = 3  # UPJUNOO: crm (SQL), marketing_list (Kafka batch task), notify-ad-partners (Kafka)


def _events(count: int) -> list[bytes]:
    run = uuid.uuid4().hex[:8]
    now = datetime.now(UTC).isoformat()
    return [
        json.dumps(
            {
                "event_id": f"bench-{run}-{i}",
                "tenant": "upjunoo",
                "subject": {"email": f"bench-consent-{run}-{i}@example.org"},
                "purposes": PURPOSES,
                "action": "withdraw",
                "occurred_at": now,
            }
        ).encode()
        for i in range(count)
    ]


async def _produce(bootstrap: str, topic: str, events: list[bytes]) -> float:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=20, max_batch_size=1 << 20)
    await producer.start()
    try:
        started = time.perf_counter()
        futures = [await producer.send(topic, event, key=str(i).encode()) for i, event in enumerate(events)]
        await asyncio.gather(*futures)
        return time.perf_counter() - started
    finally:
        await producer.stop()


async def raw_kafka(
    settings: Any, events: list[bytes], progress: Callable[[str, int, int], None]
) -> dict[str, Any]:
    topic = f"bench-raw-{uuid.uuid4().hex[:8]}"
    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=settings.kafka_bootstrap, group_id=topic, auto_offset_reset="earliest"
    )
    await consumer.start()
    try:
        started = time.perf_counter()
        produce = asyncio.create_task(_produce(settings.kafka_bootstrap, topic, events))
        seen = 0
        while seen < len(events):
            batch = await consumer.getmany(timeout_ms=200, max_records=5000)
            for records in batch.values():
                for record in records:
                    json.loads(record.value)  # a consumer at least parses what it reads
                    seen += 1
            progress("raw Kafka produce+consume", seen, len(events))
        seconds = time.perf_counter() - started
        await produce
    finally:
        await consumer.stop()
    return {
        "events": len(events),
        "seconds": round(seconds, 3),
        "events_per_s": round(len(events) / seconds, 1),
    }


async def consent_propagation(
    settings: Any, events: list[bytes], progress: Callable[[str, int, int], None]
) -> dict[str, Any]:
    from schemas import CONSENT_TOPIC

    ids = [json.loads(e)["event_id"] for e in events]
    want = len(ids) * SYSTEMS
    conn = await asyncpg.connect(settings.pg_dsn())
    try:
        started, started_wall = time.perf_counter(), time.time()
        publish_seconds = await _produce(settings.kafka_bootstrap, CONSENT_TOPIC, events)
        ingested_at = propagated_at = None
        while propagated_at is None:
            recorded = await conn.fetchval(
                "SELECT count(*) FROM consent_events WHERE event_id = ANY($1)", ids
            )
            confirmed = await conn.fetchval(
                "SELECT count(*) FROM consent_evidence WHERE event_id = ANY($1)", ids
            )
            now = time.perf_counter()
            if ingested_at is None and recorded == len(ids):
                ingested_at = now
            if confirmed >= want:
                propagated_at = now
            progress("consent withdrawals", confirmed, want)
            await asyncio.sleep(0.25)
        batches = await conn.fetchval(
            "SELECT count(DISTINCT batch_id) FROM consent_events WHERE event_id = ANY($1)", ids
        )
    finally:
        await conn.close()
    spread = await _batch_spread(settings, started_wall)
    assert ingested_at is not None
    return {
        "events": len(ids),
        "systems": SYSTEMS,
        "publish_seconds": round(publish_seconds, 3),
        "ingested_seconds": round(ingested_at - started, 3),
        "propagated_seconds": round(propagated_at - started, 3),
        "ingested_per_s": round(len(ids) / (ingested_at - started), 1),
        "propagated_per_s": round(len(ids) / (propagated_at - started), 1),
        "batch_workflows": batches,
        "batch_workflows_started_s": spread["started"],
        "batch_workflows_closed_s": spread["closed"],
    }


async def _batch_spread(settings: Any, since: float) -> dict[str, list[float]]:
    """When the batch workflows started and closed, in seconds after the first publish."""
    from workers.runtime.temporal_client import connect

    client = await connect(settings)
    started, closed = [], []
    async for workflow in client.list_workflows("PrivacyRequestType = 'consent_batch'"):
        if workflow.start_time.timestamp() < since:
            continue
        started.append(round(workflow.start_time.timestamp() - since, 2))
        if workflow.close_time is not None:
            closed.append(round(workflow.close_time.timestamp() - since, 2))
    return {"started": sorted(started), "closed": sorted(closed)}


async def consent_bench(
    settings: Any, count: int, progress: Callable[[str, int, int], None]
) -> dict[str, Any]:
    baseline = await raw_kafka(settings, _events(count), progress)
    ours = await consent_propagation(settings, _events(count), progress)
    return {
        "raw_kafka": baseline,
        "ours": ours,
        "ratio_propagated_vs_raw_kafka": round(ours["propagated_per_s"] / baseline["events_per_s"], 3),
        "target_events_per_s": 2000,
    }
