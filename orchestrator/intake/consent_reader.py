"""privacy.consent.v1 read a window at a time straight off a Kafka consumer, beside the faust agents.

Why not a faust agent: faust hands its stream over one event at a time (an event object, the
sensors, an acknowledgement each), which capped this topic at ~9,000 changes/s on the bench
machine before any of our work, most of a core. Consent changes need no per-event routing:
they are grouped into windows anyway. So the intake reads them as the consumer fetched them
(``getmany``), up to ``PRIVACY_CONSENT_BATCH_MAX`` changes or ``PRIVACY_CONSENT_WINDOW_SECONDS``
after the first one, and commits a window's offsets only once every change in it is in a
started batch workflow or in the DLQ: the same at-least-once rule as the agents. A window
delivered again (a crash before the commit, a rebalance) is harmless: changes and evidence
are keyed by event id.

The reader has its own consumer group (``consent_group``): faust's group speaks faust's own
partition assignor, which a plain consumer cannot join. More intake replicas share the
topic's partitions through this group as they share the others through faust's.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any

from aiokafka import AIOKafkaConsumer, ConsumerRebalanceListener, TopicPartition
from aiokafka.errors import CommitFailedError, IllegalStateError, KafkaError

from schemas import CONSENT_TOPIC
from workers.runtime.settings import Settings

log = logging.getLogger(__name__)

FIRST_WAIT_MS = 1000  # how long one idle fetch waits for the first change of a window
IN_FLIGHT = 4  # windows handled at once: enough to overlap one's CPU with others' round trips


def consent_group(settings: Settings) -> str:
    """The consumer group whose committed offsets say which consent changes were handled."""
    return f"{settings.intake_app_id}-consent"


@dataclass(frozen=True)
class ConsentRecord:
    """One record of privacy.consent.v1 and where it was read (for the DLQ's partition/offset)."""

    raw: bytes
    topic: str
    partition: int
    offset: int


WindowHandler = Callable[[list[ConsentRecord]], Coroutine[Any, Any, None]]


class ConsentReader:
    """Reads windows of consent changes and hands each to ``handle``, then commits it."""

    rewind_pause = 1.0  # seconds before a failed window is read again

    def __init__(self, settings: Settings, handle: WindowHandler) -> None:
        self._settings = settings
        self._handle = handle
        self._max, self._seconds = settings.consent_window

    async def run(self) -> None:
        """Until cancelled: read windows and have each handled, up to ``IN_FLIGHT`` at once (one
        window's changes are validated while the one before waits on PostgreSQL and Temporal);
        a window's offsets are committed once it and every window before it are handled.
        ``handle`` never raises for one bad change (it sends it to the DLQ); if it raises, the
        windows from that one on are not committed and the consumer is re-positioned, so their
        changes come again."""
        consumer = AIOKafkaConsumer(
            bootstrap_servers=self._settings.kafka_bootstrap,
            group_id=consent_group(self._settings),
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            # The same liveness as the faust group (app.py): a dead intake's partitions move in 10 s.
            session_timeout_ms=10_000,
            heartbeat_interval_ms=2_000,
            max_partition_fetch_bytes=4 << 20,
            fetch_max_bytes=16 << 20,
        )
        consumer.subscribe([CONSENT_TOPIC], listener=TakeOverFromFaust(self, consumer))
        await self._start(consumer)
        try:
            await self.serve(consumer)
        finally:
            await consumer.stop()

    async def serve(self, consumer: AIOKafkaConsumer) -> None:
        """The reading loop of ``run`` on a started consumer (tests give it a fake one)."""
        in_flight: deque[tuple[asyncio.Task[None], dict[TopicPartition, int]]] = deque()
        try:
            while True:
                window = await self.window(consumer)
                if window:
                    in_flight.append((asyncio.create_task(self._handle(window)), _next_offsets(window)))
                # Commit what is done, in order; wait only when too many windows are in flight.
                while in_flight and (in_flight[0][0].done() or len(in_flight) >= IN_FLIGHT or not window):
                    task, offsets = in_flight.popleft()
                    try:
                        await task
                    except Exception:  # noqa: BLE001 - a window that failed is read again, not lost
                        log.exception("a consent window failed; reading it again")
                        await asyncio.gather(*(t for t, _ in in_flight), return_exceptions=True)
                        in_flight.clear()
                        await self._rewind(consumer)
                        break
                    await self._commit(consumer, offsets)
        finally:
            for task, _ in in_flight:
                task.cancel()

    async def window(self, consumer: AIOKafkaConsumer) -> list[ConsentRecord]:
        """Up to ``max`` changes: whatever is fetched already, then more until ``seconds`` after
        the first change; empty when nothing came within ``FIRST_WAIT_MS``."""
        records: list[ConsentRecord] = []
        loop = asyncio.get_running_loop()
        deadline = None
        while len(records) < self._max:
            wait_ms = FIRST_WAIT_MS if deadline is None else int(max(0.0, deadline - loop.time()) * 1000)
            fetched = await consumer.getmany(timeout_ms=wait_ms, max_records=self._max - len(records))
            for batch in fetched.values():
                records.extend(ConsentRecord(r.value or b"", r.topic, r.partition, r.offset) for r in batch)
            if not records:
                return records
            if deadline is None:
                deadline = loop.time() + self._seconds
            elif loop.time() >= deadline:
                break
        return records

    async def _start(self, consumer: AIOKafkaConsumer) -> None:
        for attempt in range(60):  # the broker may still be starting with the stack
            try:
                await consumer.start()
                return
            except KafkaError:
                if attempt == 59:
                    raise
                await asyncio.sleep(0.5)

    async def _commit(self, consumer: AIOKafkaConsumer, offsets: dict[TopicPartition, int]) -> None:
        try:
            await consumer.commit(offsets)
        except (CommitFailedError, IllegalStateError):
            # The group rebalanced while the window was handled: its partitions went to another
            # member, which reads the uncommitted changes again (harmless: keyed by event id).
            log.warning("consent window handled but not committed (group rebalanced)")

    async def _rewind(self, consumer: AIOKafkaConsumer) -> None:
        """Back to the last committed offsets (or the start), so a failed window is read again."""
        for partition in consumer.assignment():
            committed = await consumer.committed(partition)
            if committed is None:
                committed = (await self.faust_offsets({partition})).get(partition)
            if committed is None:
                await consumer.seek_to_beginning(partition)
            else:
                consumer.seek(partition, committed)
        await asyncio.sleep(self.rewind_pause)  # a dependency that failed the window gets a moment

    async def faust_offsets(self, partitions: set[TopicPartition]) -> dict[TopicPartition, int]:
        """Where the faust agent of earlier releases stopped reading these partitions (its
        group's committed offsets), for those it read."""
        earlier = AIOKafkaConsumer(
            bootstrap_servers=self._settings.kafka_bootstrap, group_id=self._settings.intake_app_id,
            enable_auto_commit=False,
        )  # fmt: skip
        await earlier.start()
        try:
            found = {partition: await earlier.committed(partition) for partition in partitions}
            return {partition: offset for partition, offset in found.items() if offset is not None}
        finally:
            await earlier.stop()


class TakeOverFromFaust(ConsumerRebalanceListener):
    """A partition this group never committed starts where the faust agent of earlier releases
    stopped, not at the topic's start: replaying old withdrawals would stop processing again
    for people who have granted consent since."""

    def __init__(self, reader: ConsentReader, consumer: AIOKafkaConsumer) -> None:
        self._reader = reader
        self._consumer = consumer

    async def on_partitions_revoked(self, revoked: set[TopicPartition]) -> None:
        return None  # windows in flight end uncommitted, and the new owner reads them again

    async def on_partitions_assigned(self, assigned: set[TopicPartition]) -> None:
        never = {p for p in assigned if await self._consumer.committed(p) is None}
        if not never:
            return
        for partition, offset in (await self._reader.faust_offsets(never)).items():
            log.info("consent %s: taking over from the faust agent at offset %d", partition, offset)
            self._consumer.seek(partition, offset)


def _next_offsets(window: list[ConsentRecord]) -> dict[TopicPartition, int]:
    """What committing ``window`` means: per partition, the offset after its last change."""
    offsets: dict[TopicPartition, int] = {}
    for record in window:
        partition = TopicPartition(record.topic, record.partition)
        offsets[partition] = max(offsets.get(partition, 0), record.offset + 1)
    return offsets
