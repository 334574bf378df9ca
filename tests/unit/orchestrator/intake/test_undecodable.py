"""A fetched partition holding an undecodable batch yields the good records before and after it
and one placeholder at the bad batch's last offset, remembered with where the batch is; aiokafka's
own PartitionRecords, unguarded, raises and loses them all."""

from __future__ import annotations

import pytest
from aiokafka import TopicPartition
from aiokafka.consumer import fetcher
from aiokafka.consumer.fetcher import READ_UNCOMMITTED
from aiokafka.record.legacy_records import LegacyRecordBatchBuilder
from aiokafka.record.memory_records import MemoryRecords

from orchestrator.intake.undecodable import (
    _GuardedPartitionRecords,
    forget,
    guard_fetched_batches,
    skipped_batch,
)
from tests.record_batches import CORRUPTIONS, record_batch

TP = TopicPartition("privacy.requests.v1", 2)
LEGACY_CRC_AT = 12  # offset int64, size int32, then the message's crc


def fetched(corruption: str) -> MemoryRecords:
    """What one fetch of the partition returns: 2 good records, 3 in a bad batch, 1 good."""
    return MemoryRecords(
        record_batch([b"a", b"b"], base_offset=10)
        + record_batch([b"x", b"y", b"z"], base_offset=12, corruption=corruption)
        + record_batch([b"c"], base_offset=15)
    )


def drain(records_class: type, memory: MemoryRecords, fetch_offset: int = 10) -> list[tuple[int, bytes]]:
    partition = records_class(TP, memory, None, fetch_offset, None, None, True, READ_UNCOMMITTED)
    return [(record.offset, record.value) for record in partition]


@pytest.mark.parametrize("corruption", CORRUPTIONS)
def test_an_undecodable_batch_is_replaced_by_one_placeholder_and_nothing_else_is_lost(corruption: str):
    assert drain(_GuardedPartitionRecords, fetched(corruption)) == [
        (10, b"a"), (11, b"b"), (14, b""), (15, b"c")
    ]  # fmt: skip
    batch = skipped_batch(TP.topic, TP.partition, 14)
    assert batch is not None
    assert (batch.first_offset, batch.last_offset) == (12, 14)
    assert batch.error in ("CorruptRecordException", "BadGzipFile")
    assert "offsets 12-14 of privacy.requests.v1[2]" in batch.describe()
    forget(batch)
    assert skipped_batch(TP.topic, TP.partition, 14) is None


@pytest.mark.parametrize("corruption", CORRUPTIONS)
def test_unguarded_aiokafka_raises_on_the_bad_batch(corruption: str):
    """Why the hook exists: aiokafka's generator dies on the batch, taking what it had read."""
    aiokafka_own = _GuardedPartitionRecords.__bases__[0]
    with pytest.raises(Exception):  # noqa: B017,PT011 - CorruptRecordException or a codec's own error
        drain(aiokafka_own, fetched(corruption))


def test_good_batches_are_read_as_they_are():
    memory = MemoryRecords(record_batch([b"a", b"b"], base_offset=0) + record_batch([b"c"], base_offset=2))
    assert drain(_GuardedPartitionRecords, memory, fetch_offset=0) == [(0, b"a"), (1, b"b"), (2, b"c")]
    assert skipped_batch(TP.topic, TP.partition, 1) is None


def test_the_guard_is_installed_once_for_every_consumer_of_the_process():
    guard_fetched_batches()
    guard_fetched_batches()
    assert fetcher.PartitionRecords is _GuardedPartitionRecords


def legacy_message(offset: int, value: bytes, bad_crc: bool = False) -> bytes:
    builder = LegacyRecordBatchBuilder(magic=1, compression_type=0, batch_size=1 << 20)
    builder.append(offset, timestamp=None, key=None, value=value)
    message = bytearray(builder.build())
    if bad_crc:
        message[LEGACY_CRC_AT] ^= 1
    return bytes(message)


def test_a_legacy_message_with_a_bad_crc_is_skipped_at_its_own_offset():
    """Message format v1 (old producers) has no batch header: the wrapper's offset is all there is."""
    memory = MemoryRecords(
        legacy_message(10, b"a") + legacy_message(11, b"x", bad_crc=True) + legacy_message(12, b"c")
    )
    assert drain(_GuardedPartitionRecords, memory) == [(10, b"a"), (11, b""), (12, b"c")]
    batch = skipped_batch(TP.topic, TP.partition, 11)
    assert batch is not None and (batch.first_offset, batch.last_offset) == (11, 11)
    forget(batch)
