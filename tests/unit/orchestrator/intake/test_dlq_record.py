"""A DLQ record can be written for any bytes at all, and stays within a Kafka message's size."""

import json

from orchestrator.intake.admission import DLQ_RAW_MAX_BYTES, dlq_key, dlq_record
from schemas import DLQ_TOPIC, REQUESTS_TOPIC, ContractViolation, validate

POISON = [
    b"",
    b"\xff\xfe\x00binary",
    b"[" * 200_000,  # json.loads would raise RecursionError: the key must not
    b'{"request_id": "' + b"x" * 2_000_000 + b'"}',
    b'{"request_id": "\\ud800"}',
]


def test_every_poison_gets_a_valid_bounded_record_and_no_key_crash():
    for raw in POISON:
        violation = ContractViolation("too_deep", "x")
        record = dlq_record(raw, violation, topic=REQUESTS_TOPIC, partition=3, offset=7)
        validate(DLQ_TOPIC, record)
        assert len(json.dumps(record)) < 2 * DLQ_RAW_MAX_BYTES
        assert (record["partition"], record["offset"]) == (3, 7)
        assert dlq_key(raw) is None


def test_a_large_value_keeps_its_head_and_says_how_large_it_was():
    raw = b'{"channel": "' + b"x" * 100_000 + b'"}'
    record = dlq_record(raw, ContractViolation("too_large", "x"), topic=REQUESTS_TOPIC, partition=0, offset=1)
    assert record["raw_bytes"] == len(raw) and len(record["raw"]) == DLQ_RAW_MAX_BYTES


def test_a_readable_request_id_keys_the_record():
    request_id = b"6f1c2d3e-4b5a-4c7d-8e9f-0a1b2c3d4e5f"
    assert dlq_key(b'{"request_id": "' + request_id + b'"}') == request_id
