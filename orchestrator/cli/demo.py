"""Demo requests for ``make run``: submit them on Kafka, wait until they close, summarise."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from functools import partial
from typing import Any

from aiokafka import AIOKafkaProducer

from schemas import REQUESTS_TOPIC
from schemas.vocabulary import CLOSED_STATUSES
from workers.ledger import Ledger
from workers.runtime.settings import Settings
from workers.runtime.telemetry import trace_headers

ADA = {"email": "ada@example.org", "phone": "+2250700000001", "customer_id": "C-ADA-001"}
CHLOE = {"email": "chloe@example.org"}


def rights_request(
    tenant: str, request_type: str, subject: dict[str, str], jurisdiction: str
) -> dict[str, Any]:
    return {
        "request_id": str(uuid.uuid4()),
        "tenant": tenant,
        "type": request_type,
        "subject": subject,
        "jurisdiction": jurisdiction,
        "submitted_at": datetime.now(UTC).isoformat(),
        "channel": "demo",
    }


async def publish(
    settings: Settings, values: list[dict[str, Any] | bytes], topic: str = REQUESTS_TOPIC
) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=settings.kafka_bootstrap, acks="all")
    await producer.start()
    try:
        for value in values:
            raw = value if isinstance(value, bytes) else json.dumps(value).encode()
            key = None
            if isinstance(value, dict):  # requests by request_id, consent changes by event_id
                key = str(value.get("request_id") or value.get("event_id")).encode()
            await producer.send_and_wait(topic, raw, key=key, headers=trace_headers())
    finally:
        await producer.stop()


class ServiceDown(RuntimeError):
    """A service the demo needs stopped and will not come back; the message says which and why."""


def services_down(settings: Settings) -> list[str]:
    """The stack's servers and our services that are not running (their keeper gave up, or
    nothing runs), with why."""
    from infra.processes import ProcessSupervisor
    from infra.services import SERVICES
    from infra.stack import INFRA_PARTS

    supervisor = ProcessSupervisor(settings.state_dir)
    problems = []
    for name in (*INFRA_PARTS, *SERVICES):
        if supervisor.pid(name) is not None:
            continue
        kept = supervisor.keeper_status(name)
        why = f" after {kept.restarts} restart(s), last exit {kept.last_exit}" if kept else ""
        problems.append(f"{name} is down{why}; see {settings.log_dir / f'{name}.log'}")
    return problems


async def wait_closed(
    ledger: Ledger,
    request_ids: list[str],
    timeout: float,
    progress: bool = True,
    watch: Callable[[], list[str]] | None = None,
) -> dict[str, dict[str, Any]]:
    """Poll the ledger until every request is terminal or ``timeout`` passes; ``watch`` names
    services that will not stay up (ServiceDown then, instead of waiting on)."""
    deadline = time.monotonic() + timeout
    found: dict[str, dict[str, Any]] = {}
    shown = -1
    while True:
        for request_id in request_ids:
            view = await ledger.request(request_id)
            if view is not None:
                found[request_id] = view
        closed = sum(1 for v in found.values() if v["status"] in CLOSED_STATUSES)
        if progress and closed != shown:
            print(f"\r  {closed}/{len(request_ids)} requests closed", end="", flush=True)
            shown = closed
        if closed == len(request_ids) or time.monotonic() > deadline:
            if progress:
                print()
            return found
        problems = watch() if watch else []
        if problems:
            raise ServiceDown("; ".join(problems))
        await asyncio.sleep(0.5)


async def run_demo(settings: Settings, timeout: float = 180) -> int:
    """Access then erasure for Ada (UPJUNOO, CI), access for Chloé (CA), one malformed event."""
    ledger = await Ledger.connect(settings.pg_dsn())
    try:
        access_ada = rights_request("upjunoo", "access", ADA, "CI")
        access_chloe = rights_request("upjunoo", "access", CHLOE, "CA")
        print("Submitting demo requests on", REQUESTS_TOPIC, "...")
        await publish(settings, [access_ada, access_chloe, b'{"request_id": "not json'])
        watch = partial(services_down, settings)
        try:
            first = await wait_closed(ledger, [access_ada["request_id"], access_chloe["request_id"]], timeout,
                                      watch=watch)  # fmt: skip
            erase_ada = rights_request("upjunoo", "erasure", ADA, "CI")
            await publish(settings, [erase_ada])
            second = await wait_closed(ledger, [erase_ada["request_id"]], timeout, watch=watch)
        except ServiceDown as down:
            print(f"\n  a service will not stay up: {down}")
            return 1
        views = {**first, **second}
        print()
        for request_id, label in (
            (access_ada["request_id"], "access  Ada  "),
            (access_chloe["request_id"], "access  Chloé"),
            (erase_ada["request_id"], "erasure Ada  "),
        ):
            view = views.get(request_id)
            if view is None:
                print(f"  {label} {request_id}: not recorded")
                continue
            outcomes = ", ".join(f"{s['system']}={s['outcome']}" for s in view["systems"])
            print(f"  {label} {request_id}: {view['status']}  [{outcomes}]")
        print("  one malformed event was sent to the DLQ (privacy.requests.dlq.v1)")
        open_count = sum(1 for v in views.values() if v["status"] not in CLOSED_STATUSES)
        return 0 if open_count == 0 and len(views) == 3 else 1
    finally:
        await ledger.close()
