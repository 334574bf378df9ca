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
from pathlib import Path
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
    from tests.bench.profile import cpu_seconds

    ids = [json.loads(e)["event_id"] for e in events]
    # Every event id of a run shares its prefix: counting by it costs a scan of this run's rows,
    # where ``= ANY(20,000 ids)`` twice a poll kept a core of the machine being measured busy.
    run, like = ids[0].rsplit("-", 1)[0] + "-%", "event_id LIKE $1"
    want = len(ids) * SYSTEMS
    conn = await asyncpg.connect(settings.pg_dsn())
    cpu_before = cpu_seconds(settings)
    try:
        started, started_wall = time.perf_counter(), time.time()
        publish_seconds = await _produce(settings.kafka_bootstrap, CONSENT_TOPIC, events)
        ingested_at = propagated_at = None
        while propagated_at is None:
            if ingested_at is None:
                recorded = await conn.fetchval(f"SELECT count(*) FROM consent_events WHERE {like}", run)
                if recorded == len(ids):
                    ingested_at = time.perf_counter()
            confirmed = await conn.fetchval(f"SELECT count(*) FROM consent_evidence WHERE {like}", run)
            if confirmed >= want:
                propagated_at = time.perf_counter()
            progress("consent withdrawals", confirmed, want)
            await asyncio.sleep(0.1)
        batches = await conn.fetchval(
            "SELECT count(DISTINCT batch_id) FROM consent_events WHERE event_id LIKE $1", run
        )
        cpu_after = cpu_seconds(settings)
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
        # Where the machine's two cores went meanwhile (the bench's own polling shows as postgres).
        "cpu_seconds": {part: round(cpu_after[part] - cpu_before.get(part, 0.0), 2) for part in cpu_after},
        "batch_workflows_started_s": spread["started"],
        "batch_workflows_closed_s": spread["closed"],
        "batch_activities": spread["activities"],
    }


async def _batch_spread(settings: Any, since: float) -> dict[str, Any]:
    """When the batch workflows started and closed, in seconds after the first publish, and per
    activity type how long its tasks waited on the queue (scheduled → started) and ran (started
    → closed), from the workflows' histories: where a batch's time goes."""
    from temporalio.api.enums.v1 import EventType

    from workers.runtime.temporal_client import connect

    client = await connect(settings)
    started, closed = [], []
    waits: dict[str, list[float]] = {}
    runs: dict[str, list[float]] = {}
    async for workflow in client.list_workflows("PrivacyRequestType = 'consent_batch'"):
        if workflow.start_time.timestamp() < since:
            continue
        started.append(round(workflow.start_time.timestamp() - since, 2))
        if workflow.close_time is not None:
            closed.append(round(workflow.close_time.timestamp() - since, 2))
        history = await client.get_workflow_handle(workflow.id).fetch_history()
        scheduled: dict[int, tuple[str, float]] = {}
        began: dict[int, float] = {}
        for event in history.events:
            at = event.event_time.ToDatetime().timestamp()
            if event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
                activity_type = event.activity_task_scheduled_event_attributes.activity_type
                scheduled[event.event_id] = (activity_type.name, at)
            elif event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED:
                attributes = event.activity_task_started_event_attributes
                name, queued = scheduled[attributes.scheduled_event_id]
                waits.setdefault(name, []).append(at - queued)
                began[attributes.scheduled_event_id] = at
            elif event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED:
                attributes = event.activity_task_completed_event_attributes
                name, _ = scheduled[attributes.scheduled_event_id]
                runs.setdefault(name, []).append(at - began[attributes.scheduled_event_id])

    def mean_max(values: list[float]) -> dict[str, float]:
        return {"mean": round(sum(values) / len(values), 3), "max": round(max(values), 3)}

    return {
        "started": sorted(started),
        "closed": sorted(closed),
        "activities": {
            name: {"queued_s": mean_max(waits[name]), "ran_s": mean_max(runs.get(name, [0.0]))}
            for name in sorted(waits)
        },
    }


async def consent_bench(
    settings: Any, count: int, progress: Callable[[str, int, int], None], profile: Path | None = None
) -> dict[str, Any]:
    """Raw Kafka, then ours; with ``profile``, py-spy and pg_stat_statements of our part (the
    sampling costs CPU, so a profiled run's figures are not the ones to report)."""
    from tests.bench.profile import Profiler

    baseline = await raw_kafka(settings, _events(count), progress)
    profiler = Profiler(settings, profile) if profile else None
    if profiler:
        await profiler.start()
    ours = await consent_propagation(settings, _events(count), progress)
    if profiler:
        await profiler.stop()
    return {
        "raw_kafka": baseline,
        "ours": ours,
        "ratio_propagated_vs_raw_kafka": round(ours["propagated_per_s"] / baseline["events_per_s"], 3),
        "target_events_per_s": 6000,
    }
