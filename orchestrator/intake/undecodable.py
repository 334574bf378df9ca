"""Record batches no one can decode are skipped, each turned into one DLQ record, never a crash.

Why a private hook: aiokafka decodes a fetched record batch lazily, inside the generator that
``Fetcher.fetched_records`` drains (``PartitionRecords._unpack_records``). A batch with a bad CRC,
a compressed body that does not decompress, or a codec nobody installed raises there, without
the partition, out of the whole ``getmany``: the records already drained from other partitions
in that call are dropped (their positions were advanced), faust's fetcher dies with the intake,
and every restart dies on the same batch. No public option of aiokafka or faust changes that.

So the intake replaces ``aiokafka.consumer.fetcher.PartitionRecords`` (the only place that
iterates fetched batches) with a subclass whose record source decodes each batch whole, up
front, before aiokafka touches it. A batch that cannot be decoded becomes a placeholder: one
empty record at the batch's last offset (so faust acknowledges, and later commits, past the
whole batch only after that record was handled) and a ``SkippedBatch`` remembered here under
its topic/partition/offset. The agents look each event up (``skipped_batch``) before reading
it and send the DLQ record ``undecodable_batch`` naming the topic, the partition and the
batch's first and last offsets; the bytes themselves stay on the topic, none is copied. Other
batches, before and after it, and every other partition are untouched.

Pinned against aiokafka 0.14.0 (with its Cython records) and faust-streaming 0.15.3, as in
pyproject.toml. ``guard_fetched_batches`` checks the private names it relies on and refuses to
start against an aiokafka that changed them, and tests/unit/orchestrator/intake/test_undecodable.py
feeds it real batches through aiokafka's own ``PartitionRecords`` logic.
"""

from __future__ import annotations

import inspect
import logging
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from aiokafka.consumer import fetcher
from aiokafka.errors import CorruptRecordException

log = logging.getLogger(__name__)

EXPECTED_PARAMETERS = (
    "self", "tp", "records", "aborted_transactions", "fetch_offset",
    "key_deserializer", "value_deserializer", "check_crcs", "isolation_level",
)  # fmt: skip


@dataclass(frozen=True)
class SkippedBatch:
    """A record batch that could not be decoded: where it is, and the type of error (no bytes)."""

    topic: str
    partition: int
    first_offset: int
    last_offset: int
    error: str

    def describe(self) -> str:
        return (
            f"record batch at offsets {self.first_offset}-{self.last_offset} of "
            f"{self.topic}[{self.partition}] could not be decoded ({self.error}); it was skipped"
        )


# Filled by the consumer's fetch thread, read by the agents: keyed by the placeholder's place.
_skipped: dict[tuple[str, int, int], SkippedBatch] = {}
_skipped_lock = threading.Lock()


def skipped_batch(topic: str, partition: int, offset: int) -> SkippedBatch | None:
    """The skipped batch whose placeholder is the event at topic/partition/offset, if it is one."""
    with _skipped_lock:
        return _skipped.get((topic, partition, offset))


def forget(batch: SkippedBatch) -> None:
    """The batch's DLQ record was delivered; a refetch after a crash would register it again."""
    with _skipped_lock:
        _skipped.pop((batch.topic, batch.partition, batch.last_offset), None)


def _remember(batch: SkippedBatch) -> None:
    with _skipped_lock:
        _skipped[(batch.topic, batch.partition, batch.last_offset)] = batch
    log.warning(
        "undecodable record batch %s[%s]@%s-%s skipped (%s); it goes to the DLQ",
        batch.topic, batch.partition, batch.first_offset, batch.last_offset, batch.error,
    )  # fmt: skip


@dataclass(frozen=True)
class _PlaceholderRecord:
    """What aiokafka makes a ConsumerRecord of: empty, at the skipped batch's last offset."""

    offset: int
    timestamp: int
    timestamp_type: int = 0
    key: bytes | None = None
    value: bytes = b""
    checksum: None = None
    headers: tuple[()] = ()


class _PlaceholderBatch:
    """Stands in for an undecodable batch: same offsets, one empty record, nothing to check."""

    is_control_batch = False
    is_transactional = False
    producer_id = None

    def __init__(self, first_offset: int, last_offset: int) -> None:
        self.base_offset = first_offset
        self.next_offset = last_offset + 1
        self._record = _PlaceholderRecord(last_offset, int(time.time() * 1000))

    def validate_crc(self) -> bool:
        return True

    def __iter__(self) -> Iterator[_PlaceholderRecord]:
        return iter([self._record])


class _DecodedBatch:
    """A batch already decoded whole (and its CRC checked): aiokafka iterates the records kept."""

    def __init__(self, batch: Any, records: list[Any]) -> None:
        self._batch = batch
        self._records = records

    def __getattr__(self, name: str) -> Any:
        return getattr(self._batch, name)

    def validate_crc(self) -> bool:
        return True

    def __iter__(self) -> Iterator[Any]:
        return iter(self._records)


class _GuardedRecords:
    """The fetched ``MemoryRecords`` of one partition, handed out batch by batch, each decoded
    first; one that fails (bad CRC, corrupt or unknown compression, truncated) is replaced."""

    def __init__(self, records: Any, topic: str, partition: int, position: Callable[[], int]) -> None:
        self._records = records
        self._topic = topic
        self._partition = partition
        self._position = position  # the partition's next fetch offset, as aiokafka tracks it
        self._broken = False

    def has_next(self) -> bool:
        return not self._broken and bool(self._records.has_next())

    def next_batch(self) -> Any:
        try:
            batch = self._records.next_batch()
        except Exception as exc:  # noqa: BLE001 - its header is unreadable: where it ends is unknown
            # Skip one offset and stop reading this fetch; the next fetch starts after it.
            self._broken = True
            offset = self._position()
            return self._skip(offset, offset, exc)
        if batch is None or batch.is_control_batch:
            return batch  # control batches carry no data; aiokafka reads their marker itself
        try:
            if not batch.validate_crc():
                raise CorruptRecordException("invalid CRC")
            return _DecodedBatch(batch, list(batch))
        except Exception as exc:  # noqa: BLE001 - whatever the decoder raises, the batch is lost
            last = batch.next_offset - 1
            # A legacy (v0/v1) message set knows only its wrapper's offset, the last one.
            return self._skip(getattr(batch, "base_offset", last), last, exc)

    def _skip(self, first_offset: int, last_offset: int, exc: Exception) -> _PlaceholderBatch:
        _remember(SkippedBatch(self._topic, self._partition, first_offset, last_offset, type(exc).__name__))
        return _PlaceholderBatch(first_offset, last_offset)


class _GuardedPartitionRecords(fetcher.PartitionRecords):  # type: ignore[misc]
    """aiokafka's PartitionRecords, reading its batches through ``_GuardedRecords``."""

    def __init__(self, tp: Any, records: Any, *args: Any, **kwargs: Any) -> None:
        guarded = _GuardedRecords(records, tp.topic, tp.partition, lambda: int(self.next_fetch_offset))
        super().__init__(tp, guarded, *args, **kwargs)


def guard_fetched_batches() -> None:
    """Make every aiokafka consumer of this process skip undecodable batches (idempotent)."""
    current = fetcher.PartitionRecords
    if current is _GuardedPartitionRecords:
        return
    parameters = tuple(inspect.signature(current.__init__).parameters)
    if parameters != EXPECTED_PARAMETERS or not hasattr(current, "_unpack_records"):
        raise RuntimeError(
            "aiokafka's PartitionRecords changed (expected the aiokafka 0.14 signature "
            f"{EXPECTED_PARAMETERS}, found {parameters}): review orchestrator/intake/undecodable.py"
        )
    fetcher.PartitionRecords = _GuardedPartitionRecords
