"""Nothing bad gets in, nothing is lost: poison bytes on every input topic end in the DLQ with
their reason while good requests go on; every Kafka compression codec is read, and a batch no
one can decode is skipped to the DLQ; a confirmation is taken only as the answer to the task
the orchestrator sent."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from aiokafka import AIOKafkaProducer
from temporalio.client import Client

from orchestrator.workflows.models import system_workflow_id
from schemas import CONFIRMATIONS_TOPIC, CONSENT_TOPIC, DLQ_TOPIC, REQUESTS_TOPIC
from tests.integration.conftest import RunningStack, rights_request
from tests.record_batches import produce_batch, record_batch


async def produce(
    stack: RunningStack, topic: str, values: list[bytes], compression: str | None = None
) -> list[tuple[str, int, int]]:
    """Publish raw values; where each landed (topic, partition, offset)."""
    producer = AIOKafkaProducer(
        bootstrap_servers=stack.settings.kafka_bootstrap, acks="all", compression_type=compression
    )
    await producer.start()
    try:
        landed = []
        for value in values:
            meta = await producer.send_and_wait(topic, value)
            landed.append((topic, meta.partition, meta.offset))
        return landed
    finally:
        await producer.stop()


async def dlq_reasons(
    stack: RunningStack, where: list[tuple[str, int, int]]
) -> dict[tuple[str, int, int], str]:
    wanted = set(where)
    records = await stack.read_topic(
        DLQ_TOPIC,
        lambda r: (r["source_topic"], r.get("partition"), r.get("offset")) in wanted,
        want=len(wanted),
        timeout=90,
    )
    return {(r["source_topic"], r["partition"], r["offset"]): r["reason"] for r in records}


def poison(good: dict[str, Any]) -> list[tuple[bytes, str]]:
    """Bytes no intake may choke on, with the DLQ reason each must get."""
    return [
        (b"", "empty_event"),
        (b"\x00\x9f\x92\x96\xff" * 20, "not_utf8"),
        (b'{"request_id": "\xff"}', "not_utf8"),
        (b"[" * 50_000 + b"]" * 50_000, "too_deep"),
        (b'{"a":' * 200 + b"1" + b"}" * 200, "too_deep"),
        (json.dumps({**good, "verification": {"document": "ID\u0000card"}}).encode(), "forbidden_character"),
        (json.dumps({**good, "subject": {"email": "a\ud800@x.org"}}).encode(), "forbidden_character"),
        (b'{"x": NaN}', "non_finite_number"),
        (b"[]", "schema_violation"),
        (b"42", "schema_violation"),
        (b"null", "schema_violation"),
        (json.dumps({**good, "verification": {"document": "A" * 800_000}}).encode(), "schema_violation"),
    ]


async def test_poison_on_every_input_topic_goes_to_the_dlq_with_its_reason_and_good_requests_close(
    stack: RunningStack,
):
    confirmation = {"request_id": str(uuid.uuid4()), "system": "marketing_list", "outcome": "erased",
                    "at": datetime.now(UTC).isoformat()}  # fmt: skip
    change = {"event_id": str(uuid.uuid4()), "tenant": "upjunoo", "subject": {"email": "x@example.org"},
              "purposes": ["marketing"], "action": "withdraw",
              "occurred_at": datetime.now(UTC).isoformat()}  # fmt: skip
    expected: dict[tuple[str, int, int], str] = {}
    for topic, good in ((REQUESTS_TOPIC, rights_request("access")), (CONSENT_TOPIC, change),
                        (CONFIRMATIONS_TOPIC, confirmation)):  # fmt: skip
        cases = poison(good)
        landed = await produce(stack, topic, [raw for raw, _ in cases])
        expected.update(zip(landed, (reason for _, reason in cases), strict=True))
    request = rights_request("access", {"email": "chloe@example.org"})
    await stack.publish(request)

    await stack.closed(request["request_id"])
    assert await dlq_reasons(stack, list(expected)) == expected


@pytest.mark.parametrize("codec", ["gzip", "snappy", "lz4", "zstd"])
async def test_a_request_compressed_with_any_kafka_codec_is_read(stack: RunningStack, codec: str):
    """A librdkafka producer with compression.type=snappy used to kill the intake process."""
    request = rights_request("access", {"email": f"{codec}@example.org"})
    await produce(stack, REQUESTS_TOPIC, [json.dumps(request).encode()], compression=codec)
    deadline = time.monotonic() + 60
    while await stack.ledger.request(request["request_id"]) is None:
        assert time.monotonic() < deadline, f"a {codec}-compressed request was never read"
        await asyncio.sleep(0.2)


async def _genuine_answer(stack: RunningStack, request_id: str, system: str) -> dict[str, Any]:
    [answer] = await stack.read_topic(
        CONFIRMATIONS_TOPIC, lambda r: r.get("request_id") == request_id and r.get("system") == system
    )
    return answer


async def test_an_answer_must_carry_the_task_id_issued_with_the_task_of_that_tenant(stack: RunningStack):
    await stack.reseed()
    request = rights_request("access")
    await stack.publish(request)
    await stack.closed(request["request_id"])
    genuine = await _genuine_answer(stack, request["request_id"], "marketing_list")
    assert genuine["task_id"].startswith("t1.") and request["request_id"] not in genuine["task_id"]

    forged = {k: v for k, v in genuine.items() if k != "task_id"}
    guessed = {**genuine, "task_id": f"{request['request_id']}/marketing_list"}
    other_tenant = {**genuine, "tenant": "jump"}
    answers = [json.dumps(v).encode() for v in (forged, guessed, other_tenant, genuine)]
    landed = await produce(stack, CONFIRMATIONS_TOPIC, answers)
    reasons = await dlq_reasons(stack, landed[:3])
    assert [reasons[where] for where in landed[:3]] == [
        "unbound_confirmation", "unbound_confirmation", "wrong_tenant"
    ]  # fmt: skip
    # The genuine answer, delivered again, is a duplicate the workflow ignores: not a DLQ record.
    assert not await stack.read_topic(
        DLQ_TOPIC, lambda r: (r["source_topic"], r.get("partition"), r.get("offset")) == landed[3], timeout=5
    )


async def test_manual_steps_and_partners_cannot_be_settled_by_a_kafka_message_or_a_plain_signal(
    stack: RunningStack,
):
    """Only an operator's audited action settles a manual step, only a signed callback a partner."""
    subject = {"email": "guard@example.org"}  # not the partner tests' subject
    manual = rights_request("erasure", subject, tenant="testco", jurisdiction="BE")
    partner = rights_request("erasure", subject, tenant="partnerco", jurisdiction="BE")
    await stack.publish(manual, partner)
    rid = manual["request_id"]
    await stack.wait_status(rid, "in_progress")
    await _wait_system(stack, partner["request_id"], "notify-jump-tangier")
    await _wait_system(stack, rid, "paper_archive")

    def forged(request_id: str, system: str) -> bytes:
        return json.dumps({"request_id": request_id, "system": system, "outcome": "erased",
                           "at": datetime.now(UTC).isoformat(), "task_id": "t1.guess"}).encode()  # fmt: skip

    landed = await produce(
        stack,
        CONFIRMATIONS_TOPIC,
        [forged(rid, "paper_archive"), forged(partner["request_id"], "notify-jump-tangier")],
    )
    reasons = await dlq_reasons(stack, landed)
    assert [reasons[where] for where in landed] == ["not_confirmed_on_topic", "not_confirmed_on_topic"]
    status, _ = await stack.api(  # the silent partner would keep it open: leave nothing behind
        "POST", f"/v1/requests/{partner['request_id']}/cancellation", {"reason": "test over"}
    )
    assert status == 200

    # A plain-JSON signal (as the Temporal UI or CLI sends, without our codec) is dropped...
    plain = await Client.connect(stack.settings.temporal_address, namespace=stack.settings.temporal_namespace)
    await plain.get_workflow_handle(system_workflow_id(rid, "paper_archive")).signal(
        "confirm", {"outcome": "not_found", "at": datetime.now(UTC).isoformat()}
    )
    # ... so the operator's later answer is the first final one, and the one that stands.
    status, _ = await stack.api(
        "POST",
        f"/v1/requests/{rid}/systems/paper_archive/confirmation",
        {"outcome": "erased", "reason": "file shredded", "evidence": {"certificate": "SHRED-1"}},
    )
    assert status == 200
    view = await stack.closed(rid)
    archive = next(s for s in view["systems"] if s["system"] == "paper_archive")
    assert archive["outcome"] == "erased" and archive["evidence"]["confirmed_by"] == "dpo@test"


async def _wait_system(stack: RunningStack, request_id: str, system: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        view = await stack.ledger.request(request_id)
        if view and any(s["system"] == system for s in view["systems"]):
            return
        await asyncio.sleep(0.2)
    raise AssertionError(f"{system} never became part of request {request_id}")


async def test_a_consent_batch_is_settled_only_by_the_answer_carrying_its_batch_task_id(stack: RunningStack):
    change = {"event_id": str(uuid.uuid4()), "tenant": "upjunoo", "subject": {"email": "batch@example.org"},
              "purposes": ["marketing"], "action": "withdraw",
              "occurred_at": datetime.now(UTC).isoformat()}  # fmt: skip
    await stack.publish(change, topic=CONSENT_TOPIC)
    deadline, rows = time.monotonic() + 60, []
    while not rows:
        assert time.monotonic() < deadline, "the withdrawal never reached the marketing tool"
        await asyncio.sleep(0.3)
        rows = await stack.fetch(
            stack.settings.pg_database,
            "SELECT e.batch_id FROM consent_events e JOIN consent_evidence v USING (event_id)"
            " WHERE e.event_id = $1 AND v.system = 'marketing_list'",
            change["event_id"],
        )
    batch_id = str(rows[0]["batch_id"])
    genuine = await _genuine_answer(stack, batch_id, "marketing_list")
    assert genuine["task_id"].startswith("t1.") and genuine["tenant"] == "upjunoo"

    forged = [{**genuine, "task_id": f"consent-batch/{batch_id}/marketing_list"},
              {k: v for k, v in genuine.items() if k != "task_id"}]  # fmt: skip
    landed = await produce(stack, CONFIRMATIONS_TOPIC, [json.dumps(v).encode() for v in forged])
    reasons = await dlq_reasons(stack, landed)
    assert [reasons[where] for where in landed] == ["unbound_confirmation", "unbound_confirmation"]


async def _produce_on(stack: RunningStack, topic: str, partition: int, value: dict[str, Any]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=stack.settings.kafka_bootstrap, acks="all")
    await producer.start()
    try:
        await producer.send_and_wait(topic, json.dumps(value).encode(), partition=partition)
    finally:
        await producer.stop()


async def test_a_batch_no_one_can_decode_is_skipped_to_the_dlq_and_the_events_around_it_go_on(
    stack: RunningStack,
):
    """A bad CRC or a body that is not what its codec says used to stop the intake for good."""
    intake_restarts = _restarts(stack, "intake")
    before, after = rights_request("access", {"email": "before@example.org"}), rights_request("access")
    change = {"event_id": str(uuid.uuid4()), "tenant": "upjunoo", "subject": {"email": "after@example.org"},
              "purposes": ["marketing"], "action": "withdraw",
              "occurred_at": datetime.now(UTC).isoformat()}  # fmt: skip
    await _produce_on(stack, REQUESTS_TOPIC, 1, before)
    bad = [(REQUESTS_TOPIC, "not_gzip"), (CONSENT_TOPIC, "bad_crc"), (CONFIRMATIONS_TOPIC, "bad_crc")]
    skipped = {}
    for topic, corruption in bad:
        batch = record_batch([b'{"request_id": "x"}'] * 3, corruption=corruption)
        skipped[(topic, 1, await produce_batch(stack.settings.kafka_bootstrap, topic, 1, batch))] = corruption
    await _produce_on(stack, REQUESTS_TOPIC, 1, after)
    await _produce_on(stack, CONSENT_TOPIC, 1, change)

    for request in (before, after):
        await stack.closed(request["request_id"])
    deadline = time.monotonic() + 60
    while not await stack.fetch(
        stack.settings.pg_database, "SELECT 1 FROM consent_events WHERE event_id = $1", change["event_id"]
    ):
        assert time.monotonic() < deadline, "the consent change after the bad batch was never read"
        await asyncio.sleep(0.3)
    records = await stack.read_topic(
        DLQ_TOPIC, lambda r: (r["source_topic"], r.get("partition"), r.get("offset")) in skipped,
        want=len(skipped), timeout=60,
    )  # fmt: skip
    fields = ("source_topic", "partition", "offset", "last_offset", "reason", "raw")
    found = sorted(tuple(r[f] for f in fields) for r in records)
    assert found == sorted((*where, where[2] + 2, "undecodable_batch", "") for where in skipped)
    assert stack.supervisor.pid("intake") is not None and _restarts(stack, "intake") == intake_restarts


def _restarts(stack: RunningStack, service: str) -> int:
    kept = stack.supervisor.keeper_status(service)
    return kept.restarts if kept else 0
