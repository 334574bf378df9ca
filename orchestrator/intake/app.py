"""The faust app: consume requests and confirmations, route them, send bad input to the DLQ.

The agents are thin at-least-once routers. An event is acknowledged (and its offset later
committed) only after its workflow start or signal succeeded, or after its DLQ record was
delivered: every event ends in exactly one of the two. Bad input (whatever its bytes: see
``schemas.decode_event``) goes to the DLQ with a reason at once and is never retried;
transient failures (Temporal or PostgreSQL restarting) are retried in place with back-off up
to a budget, then alerted and sent to the DLQ as ``dependency_unavailable`` (``failures.py``).
A record batch that cannot even be decoded arrives as a placeholder event and goes to the DLQ
as ``undecodable_batch`` naming where it is (``undecodable.py``).
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

import faust
from faust.contrib.opentelemetry import setup_opentelemetry

from orchestrator.intake.admission import admit_request, dlq_key, dlq_record
from orchestrator.intake.consent import admit_consent, group_changes
from orchestrator.intake.consent_reader import ConsentReader, ConsentRecord
from orchestrator.intake.failures import DependencyUnavailable, is_transient, retry_transient
from orchestrator.intake.fetching import IntakeApp
from orchestrator.intake.router import IntakeRouter
from orchestrator.intake.undecodable import SkippedBatch, forget, guard_fetched_batches, skipped_batch
from orchestrator.policy.packs import PolicyPack, load_packs
from schemas import (
    CONFIRMATIONS_TOPIC,
    CONSENT_TOPIC,
    DLQ_TOPIC,
    REQUESTS_TOPIC,
    ContractViolation,
    decode_and_validate,
)
from schemas.models import Confirmation, ConsentChange
from workers.ledger import Ledger
from workers.runtime.codec import codec_from_environment
from workers.runtime.metrics import DLQ_RECORDS
from workers.runtime.secrets import secret_keys
from workers.runtime.settings import Settings
from workers.runtime.task_ids import task_ids_from_environment
from workers.runtime.temporal_client import connect

log = logging.getLogger(__name__)
YIELD_EVERY = 500  # consent changes validated between two turns of the event loop


@dataclass(frozen=True)
class Where:
    """Where an input event was read: what its DLQ record names."""

    topic: str
    partition: int
    offset: int


class IntakeContext:
    """Connections the agents share, opened once when the first event arrives."""

    def __init__(self, settings: Settings, packs: dict[str, PolicyPack]) -> None:
        self.settings = settings
        self.packs = packs
        self.ref_key = secret_keys(settings.state_dir).subject_ref
        self.consent_refusals: dict[tuple[str, tuple[str, ...]], str | None] = {}  # admit_consent's memo
        self._router: IntakeRouter | None = None
        self._lock = asyncio.Lock()

    async def router(self) -> IntakeRouter:
        async with self._lock:
            if self._router is None:
                client = await connect(self.settings, attempts=30)
                codec = codec_from_environment(self.settings.state_dir)
                ledger = await Ledger.connect(self.settings.pg_dsn(), sealer=codec)
                task_ids = task_ids_from_environment(self.settings.state_dir)
                self._router = IntakeRouter(
                    client, ledger, self.settings.task_queue, codec, self.packs, task_ids
                )
        return self._router

    async def retry(self, what: str, action: Callable[[], Awaitable[Any]]) -> Any:
        """``action`` with transient failures retried up to the intake's retry budget."""
        return await retry_transient(what, action, self.settings.intake_retry_seconds)


def where_read(event: faust.types.EventT) -> Where:
    return Where(event.message.topic, event.message.partition, event.message.offset)


def as_violation(exc: Exception, where: Where) -> ContractViolation:
    """The DLQ reason for an event that failed: its own (data) or a dependency that stayed down."""
    if isinstance(exc, ContractViolation):
        return exc
    if isinstance(exc, DependencyUnavailable):
        return ContractViolation("dependency_unavailable", str(exc))
    # Type only in the log: an exception's text may quote the event, and logs carry no PII.
    log.error(
        "could not process %s[%s]@%s: %s (%s)", where.topic, where.partition, where.offset,
        type(exc).__name__, "transient" if is_transient(exc) else "data error",
    )  # fmt: skip
    return ContractViolation("processing_error", f"{type(exc).__name__}: {str(exc)[:500]}")


def create_app(settings: Settings, packs: dict[str, PolicyPack] | None = None) -> faust.App:
    """Build the intake app; packs are loaded (and validated) now, so a broken pack fails start-up."""
    context = IntakeContext(settings, packs if packs is not None else load_packs())
    guard_fetched_batches()  # an undecodable batch becomes one DLQ record, not a dead intake
    app = IntakeApp(  # faust.App, its Kafka fetches held 0.1 s at most (fetching.py)
        settings.intake_app_id,
        broker=f"kafka://{settings.kafka_bootstrap}",
        value_serializer="raw",
        key_serializer="raw",
        web_enabled=False,
        datadir=str(settings.state_dir / "faust"),
        topic_partitions=4,
        broker_commit_every=100,
        broker_commit_interval=1.0,
        consumer_auto_offset_reset="earliest",
        # A crashed intake's partitions move to a live one after 10 s, not faust's default 60 s
        # (measured by make chaos: a restarted intake waited a minute for the dead member).
        broker_session_timeout=10.0,
        broker_heartbeat_interval=2.0,
    )
    setup_opentelemetry(app)  # continues the producer's trace from the traceparent header
    requests_topic = app.topic(REQUESTS_TOPIC, value_serializer="raw", key_serializer="raw")
    confirmations_topic = app.topic(CONFIRMATIONS_TOPIC, value_serializer="raw", key_serializer="raw")
    dlq_topic = app.topic(DLQ_TOPIC, value_serializer="raw", key_serializer="raw")

    async def send_to_dlq(record: dict[str, Any], key: bytes | None) -> None:
        async def deliver() -> None:
            fut = await dlq_topic.send(key=key, value=json.dumps(record).encode())
            await fut  # delivered before the bad event is acknowledged: nothing is lost

        await context.retry("sending a DLQ record", deliver)
        DLQ_RECORDS.add(1, {"topic": record["source_topic"], "reason": record["reason"]})
        log.warning(
            "rejected %s[%s]@%s: %s",
            record["source_topic"],
            record.get("partition"),
            record.get("offset"),
            record["reason"],
        )

    async def reject(where: Where, raw: bytes, violation: ContractViolation) -> None:
        record = dlq_record(raw, violation, topic=where.topic, partition=where.partition, offset=where.offset)
        await send_to_dlq(record, dlq_key(raw))

    async def reject_skipped(batch: SkippedBatch) -> None:
        """The DLQ record of a batch no one could decode: where it is, no bytes."""
        violation = ContractViolation("undecodable_batch", batch.describe())
        record = dlq_record(
            b"", violation, topic=batch.topic, partition=batch.partition, offset=batch.first_offset
        )
        record["last_offset"] = batch.last_offset
        await send_to_dlq(record, None)
        forget(batch)

    def skipped(event: faust.types.EventT) -> SkippedBatch | None:
        """The undecodable batch this event stands for, when it is such a placeholder."""
        return skipped_batch(event.message.topic, event.message.partition, event.message.offset)

    async def handle_request(raw: bytes) -> None:
        admission = admit_request(raw, context.packs, context.ref_key)
        router = await context.retry("connecting to Temporal and PostgreSQL", context.router)
        await context.retry(
            f"starting request {admission.request.request_id}",
            partial(router.start_request, admission),
        )

    async def handle_confirmation(raw: bytes) -> None:
        confirmation = Confirmation.from_event(decode_and_validate(CONFIRMATIONS_TOPIC, raw))
        router = await context.retry("connecting to Temporal and PostgreSQL", context.router)
        await context.retry(
            f"routing confirmation for {confirmation.request_id}",
            partial(router.route_confirmation, confirmation),
        )

    async def consume(stream: faust.StreamT, handle: Callable[[bytes], Awaitable[None]]) -> None:
        """Handle each event; whatever goes wrong with one event never stops the stream."""
        async for event in stream.events():
            if (unreadable := skipped(event)) is not None:
                await reject_skipped(unreadable)
                continue
            raw = bytes(event.value or b"")
            try:
                await handle(raw)
            except Exception as exc:  # noqa: BLE001 - a bug on one event must not stop the agent
                where = where_read(event)
                await reject(where, raw, as_violation(exc, where))

    @app.agent(requests_topic, concurrency=4)
    async def intake_requests(stream: faust.StreamT) -> None:
        await consume(stream, handle_request)

    @app.agent(confirmations_topic, concurrency=4)
    async def intake_confirmations(stream: faust.StreamT) -> None:
        await consume(stream, handle_confirmation)

    async def handle_consent_window(records: list[ConsentRecord]) -> None:
        """Bad changes to the DLQ; the good ones, per tenant, become one batch workflow each."""
        try:
            await start_consent_batches(records)
        except Exception as exc:  # noqa: BLE001 - a bug on one window must not stop the reader
            for record in records:
                where = Where(record.topic, record.partition, record.offset)
                await reject(where, record.raw, as_violation(exc, where))

    # Windows in flight validate one at a time, in order: each gets the CPU to itself and
    # reaches PostgreSQL and Temporal sooner, while the next one validates during its round trips.
    validating = asyncio.Lock()

    async def start_consent_batches(records: list[ConsentRecord]) -> None:
        async with validating:
            began = time.perf_counter()
            changes = await validate_consent(records)
            batches = group_changes(changes, context.packs, context.ref_key) if changes else []
            validated = time.perf_counter()
        if not changes:
            return
        router = await context.retry("connecting to Temporal and PostgreSQL", context.router)
        for batch, entries in batches:
            await context.retry(
                f"starting consent batch {batch.batch_id}",
                partial(router.start_consent_batch, batch, entries),
            )
        log.info(
            "consent window: %d change(s), %d rejected; validated in %.0f ms, batches started in %.0f ms",
            len(changes), len(records) - len(changes), 1000 * (validated - began),
            1000 * (time.perf_counter() - validated),
        )  # fmt: skip

    async def validate_consent(records: list[ConsentRecord]) -> list[ConsentChange]:
        """The window's valid changes; each bad one goes to the DLQ with its reason."""
        changes: list[ConsentChange] = []
        for n, record in enumerate(records):
            if n % YIELD_EVERY == YIELD_EVERY - 1:
                await asyncio.sleep(0)  # let the agents (confirmations) run between slices of a window
            # The intake's batch guard (undecodable.py) patches aiokafka itself: this consumer
            # gets its placeholders too.
            if (unreadable := skipped_batch(record.topic, record.partition, record.offset)) is not None:
                await reject_skipped(unreadable)
                continue
            try:
                change = ConsentChange.from_event(decode_and_validate(CONSENT_TOPIC, record.raw))
                admit_consent(change, context.packs, context.consent_refusals)
                changes.append(change)
            except Exception as exc:  # noqa: BLE001 - one bad change never fails its window
                where = Where(record.topic, record.partition, record.offset)
                await reject(where, record.raw, as_violation(exc, where))
        return changes

    # Consent changes are read in windows off a plain consumer, not by a faust agent (why:
    # consent_reader.py); the task runs as long as the app, and faust cancels it on shutdown.
    @app.task
    async def read_consent() -> None:
        await ConsentReader(settings, handle_consent_window).run()

    return app


def run_intake(settings: Settings, on_ready: Callable[[], None] | None = None) -> None:
    """Run the intake worker in the foreground until SIGTERM."""
    app = create_app(settings)
    if on_ready is not None:

        @app.task
        async def announce_ready() -> None:
            on_ready()

    worker = faust.Worker(app, loglevel="INFO", quiet=True)
    worker.execute_from_commandline()
