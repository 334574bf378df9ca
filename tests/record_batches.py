"""Kafka record batches no consumer can decode, crafted byte by byte, and a raw produce of one.

A bad CRC or a compressed body that does not decompress is what a broken producer, a disk
error or a hostile client can leave on a topic; a broker such as Tansu stores and serves them.
Used by the intake's unit and integration tests and by the fuzz run.
"""

from __future__ import annotations

import struct

from aiokafka import TopicPartition
from aiokafka.client import AIOKafkaClient
from aiokafka.protocol.produce import ProduceRequest
from aiokafka.record.default_records import DefaultRecordBatchBuilder
from aiokafka.record.util import calc_crc32c

# Offsets in a v2 record batch header (KIP-98): baseOffset int64, batchLength int32,
# partitionLeaderEpoch int32, magic int8, crc uint32, attributes int16 ... records from byte 61.
BATCH_LENGTH_AT, CRC_AT, ATTRIBUTES_AT, RECORDS_AT = 8, 17, 21, 61
GZIP = 1
CORRUPTIONS = ("bad_crc", "not_gzip")


def record_batch(values: list[bytes], base_offset: int = 0, corruption: str | None = None) -> bytes:
    """A v2 batch holding ``values``; ``corruption``: ``bad_crc`` (one bit of the CRC flipped) or
    ``not_gzip`` (marked gzip-compressed, body not gzip, CRC correct)."""
    builder = DefaultRecordBatchBuilder(
        magic=2, compression_type=0, is_transactional=0, producer_id=-1, producer_epoch=-1,
        base_sequence=-1, batch_size=1 << 20,
    )  # fmt: skip
    for delta, value in enumerate(values):
        builder.append(delta, timestamp=None, key=None, value=value, headers=[])
    raw = bytearray(builder.build())
    struct.pack_into(">q", raw, 0, base_offset)
    if corruption == "not_gzip":
        struct.pack_into(">h", raw, ATTRIBUTES_AT, GZIP)
        raw[RECORDS_AT:] = b"\x01these bytes are not gzip"
        struct.pack_into(">i", raw, BATCH_LENGTH_AT, len(raw) - 12)
    elif corruption not in (None, "bad_crc"):
        raise ValueError(f"unknown corruption {corruption!r}: one of {CORRUPTIONS}")
    crc = calc_crc32c(memoryview(raw)[ATTRIBUTES_AT:])
    struct.pack_into(">I", raw, CRC_AT, crc ^ 1 if corruption == "bad_crc" else crc)
    return bytes(raw)


async def produce_batch(bootstrap: str, topic: str, partition: int, batch: bytes) -> int:
    """Append ``batch`` as it is to topic/partition (a raw Produce request); its first offset."""
    client = AIOKafkaClient(bootstrap_servers=bootstrap)
    await client.bootstrap()
    try:
        await client._metadata_update(client.cluster, [topic])
        leader = client.cluster.leader_for_partition(TopicPartition(topic, partition))
        if leader is None:
            raise RuntimeError(f"no leader for {topic}[{partition}]")
        request = ProduceRequest(None, -1, 30_000, [(topic, [(partition, batch)])])
        response = await client.send(leader, request)
        [(_, [(_, error_code, offset, *_)])] = response.topics
        if error_code != 0:
            raise RuntimeError(f"the broker refused the batch on {topic}[{partition}]: error {error_code}")
        return int(offset)
    finally:
        await client.close()
