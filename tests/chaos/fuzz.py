"""make chaos, part two: fuzz every input topic, interleaved with good requests, then account.

Sends events generated from the contract's JSON Schemas (half of them aimed at real tenants)
and mutated bytes (fuzz_inputs.py) on privacy.requests.v1, privacy.consent.v1 and
privacy.confirmations.v1, plus record batches no consumer can decode (a bad CRC, a body that is
not gzip: each batch one input, found in the DLQ by its first offset), between good erasure
requests. Invariants at the end:
  - every input is accounted for: processed (a request in the ledger, a consent change in
    consent_events) or a DLQ record with a reason, found by (topic, partition, offset);
  - lost = 0: no input the intake acknowledged (committed past) is unaccounted for;
  - wedged = 0: no input is still unacknowledged when the run ends;
  - every good request closes, and no process of ours is dead.
Counts go to bench-results/fuzz.json; the exit code is the number of violations (capped).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import sys
import tempfile
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from schemas import CONSENT_TOPIC
from tests.chaos.fuzz_inputs import INPUT_TOPICS, aimed_at_real_tenants, from_the_schema, mutated
from tests.chaos.run import TENANTS, confirm_manual_steps, seed
from tests.record_batches import CORRUPTIONS, produce_batch, record_batch

Where = tuple[str, int, int]  # topic, partition, offset
# Systems the forged answers name: async tools (they need the task id), partners and processors
# told by OpenDSR or by hand, an SQL system.
SYSTEMS = ("marketing_list", "newsletter", "notify-partner-ci", "notify-tangier-office",
           "notify-direct-mail-processor", "crm", "correspondence")  # fmt: skip


class Sender:
    """Publishes raw values and remembers where each landed and what it was."""

    def __init__(self, bootstrap: str) -> None:
        # Up to 4 MiB: the fuzz also sends values past the contract's 1 MiB limit.
        self._producer = AIOKafkaProducer(
            bootstrap_servers=bootstrap, acks="all", max_request_size=4 << 20
        )
        self.sent: dict[Where, tuple[str, bytes]] = {}  # where -> (kind, raw)
        self._bootstrap = bootstrap

    async def __aenter__(self) -> Sender:
        await self._producer.start()
        return self

    async def __aexit__(self, *_: object) -> None:
        await self._producer.stop()

    async def send(self, topic: str, raw: bytes, kind: str) -> None:
        meta = await self._producer.send_and_wait(topic, raw)
        self.sent[(topic, meta.partition, meta.offset)] = (kind, raw)

    async def send_undecodable(self, topic: str, corruption: str, partition: int) -> None:
        """A batch of three records no consumer can decode, written as it is; one input."""
        batch = record_batch([b'{"request_id": "undecodable"}'] * 3, corruption=corruption)
        first = await produce_batch(self._bootstrap, topic, partition, batch)
        self.sent[(topic, partition, first)] = (f"undecodable:{corruption}", b"")


def processed_id(topic: str, raw: bytes) -> str | None:
    """The id by which a processed input is found in the ledger, when it has one."""
    try:
        value = json.loads(raw)
    except (ValueError, RecursionError):
        return None
    if not isinstance(value, dict):
        return None
    key = {"privacy.requests.v1": "request_id", "privacy.consent.v1": "event_id"}.get(topic)
    found = value.get(key) if key else None
    return found.lower() if isinstance(found, str) and key == "request_id" else found


async def read_dlq(consumer: AIOKafkaConsumer, into: dict[Where, str]) -> None:
    batch = await consumer.getmany(timeout_ms=1000, max_records=5000)
    for records in batch.values():
        for message in records:
            record = json.loads(message.value)
            where = (record["source_topic"], record.get("partition", -1), record.get("offset", -1))
            into[where] = record["reason"]


async def committed(settings: Any, wheres: list[Where]) -> dict[tuple[str, int], int]:
    """The intake groups' committed offset per partition (what they acknowledged): faust's group
    for requests and confirmations, the consent reader's own for consent changes."""
    from orchestrator.intake.consent_reader import consent_group

    out: dict[tuple[str, int], int] = {}
    for group in (settings.intake_app_id, consent_group(settings)):
        consumer = AIOKafkaConsumer(bootstrap_servers=settings.kafka_bootstrap, group_id=group,
                                    enable_auto_commit=False)  # fmt: skip
        await consumer.start()
        try:
            for topic, partition in {(t, p) for t, p, _ in wheres}:
                if (topic == CONSENT_TOPIC) == (group != settings.intake_app_id):
                    out[(topic, partition)] = await consumer.committed(TopicPartition(topic, partition)) or 0
        finally:
            await consumer.stop()
    return out


async def running(ledger: Any, request_ids: list[str], timeout: float) -> None:
    """Wait until every request has its systems in the ledger (or the timeout passes)."""
    deadline = time.monotonic() + timeout
    for request_id in request_ids:
        while time.monotonic() < deadline:
            view = await ledger.request(request_id)
            if view and view["systems"]:
                break
            await asyncio.sleep(0.5)


async def account(settings: Any, ledger: Any, sent: dict[Where, tuple[str, bytes]],
                  dlq: dict[Where, str]) -> dict[Where, str]:  # fmt: skip
    """Where each input ended: 'dlq:<reason>', 'processed', or 'open' (not yet either)."""
    pool = ledger._pool  # noqa: SLF001 - one read-only query the ledger has no method for
    events = {r["event_id"] for r in await pool.fetch("SELECT event_id FROM consent_events")}
    fate = {}
    for where, (_, raw) in sent.items():
        if where in dlq:
            fate[where] = f"dlq:{dlq[where]}"
            continue
        topic = where[0]
        ident = processed_id(topic, raw)
        done = ident is not None and (
            await ledger.has_request(ident) if topic == "privacy.requests.v1" else ident in events
        )
        fate[where] = "processed" if done and topic != "privacy.confirmations.v1" else "open"
    return fate


async def main(schema_events: int, mutations: int, good_count: int, timeout: float) -> int:
    from infra.launch import launch, shut_down
    from infra.processes import ProcessSupervisor
    from infra.services import SERVICES
    from infra.stack import INFRA_PARTS
    from orchestrator.cli.demo import rights_request
    from orchestrator.workflows.search import REGISTRATION
    from schemas import DLQ_TOPIC
    from schemas.vocabulary import CLOSED_STATUSES
    from workers.ledger import Ledger

    rng = random.Random(20261123)
    print("Generating events from the contract's JSON Schemas ...")
    generated = {
        topic: aimed_at_real_tenants(from_the_schema(topic, schema_events), topic, rng)
        for topic in INPUT_TOPICS
    }
    print("Starting the embedded stack and our services ...")
    os.environ.setdefault("PRIVACY_SANDBOX_PARTNER_DELAY", "3")  # the slow partner: seconds, not 20
    settings, stack = await launch(Path(tempfile.mkdtemp(prefix="privacy-fuzz-")), REGISTRATION)
    started = time.monotonic()
    try:
        subjects = await seed(settings, good_count)
        good = [rights_request(t, "erasure", s, j) for t, j, s in subjects]
        # Half the generated confirmations become forged answers for the good requests' systems,
        # sent once those requests run (so they meet the task-id check, not unknown_request).
        confirmations = generated["privacy.confirmations.v1"]
        forged = [dict(value, request_id=good[i % len(good)]["request_id"], system=SYSTEMS[i % len(SYSTEMS)])
                  for i, value in enumerate(confirmations[::2])]  # fmt: skip
        for value in forged[::2]:
            value.pop("tenant", None)  # past the tenant check: on to the system's kind and the task id
        generated["privacy.confirmations.v1"] = confirmations[1::2]
        inputs: list[tuple[str, str, bytes]] = []
        for topic in INPUT_TOPICS:
            for value in generated[topic]:
                raw = json.dumps(value).encode("utf-8", "surrogatepass")
                inputs.append((topic, "schema", raw))
            inputs += [(topic, f"mutated:{name}", raw) for name, raw in mutated(topic, mutations, rng)]
            inputs += [(topic, f"undecodable:{corruption}", b"") for corruption in CORRUPTIONS]
        rng.shuffle(inputs)
        print(f"Sending {len(inputs)} fuzz inputs between {len(good)} good erasure requests ...")
        async with Sender(settings.kafka_bootstrap) as sender:
            every = max(len(inputs) // max(len(good), 1), 1)
            for index, (topic, kind, raw) in enumerate(inputs):
                if index % every == 0 and good:
                    request = good[min(index // every, len(good) - 1)]
                    await sender.send("privacy.requests.v1", json.dumps(request).encode(), "good")
                if kind.startswith("undecodable:"):
                    await sender.send_undecodable(topic, kind.removeprefix("undecodable:"), index % 4)
                else:
                    await sender.send(topic, raw, kind)
            for request in good[len(inputs) // every + 1 :]:
                await sender.send("privacy.requests.v1", json.dumps(request).encode(), "good")
            ledger = await Ledger.connect(settings.pg_dsn())
            await running(ledger, [r["request_id"] for r in good], timeout=120)
            for value in forged:
                await sender.send("privacy.confirmations.v1", json.dumps(value).encode(), "schema:forged")
        sent = sender.sent
        dlq: dict[Where, str] = {}
        consumer = AIOKafkaConsumer(
            DLQ_TOPIC, bootstrap_servers=settings.kafka_bootstrap, group_id=f"fuzz-{uuid.uuid4()}",
            auto_offset_reset="earliest",
        )  # fmt: skip
        await consumer.start()
        views: dict[str, Any] = {}
        confirmed: set[str] = set()
        deadline = time.monotonic() + timeout
        try:
            while True:
                await read_dlq(consumer, dlq)
                fate = await account(settings, ledger, sent, dlq)
                for r in good:
                    views[r["request_id"]] = await ledger.request(r["request_id"])
                await confirm_manual_steps(settings, views, confirmed)
                closed = sum(1 for v in views.values() if v and v["status"] in CLOSED_STATUSES)
                still_open = sum(1 for f in fate.values() if f == "open")
                print(f"\r  accounted {len(fate) - still_open}/{len(fate)}, good closed {closed}/{len(good)}",
                      end="", flush=True)  # fmt: skip
                if (not still_open and closed == len(good)) or time.monotonic() > deadline:
                    break
                await asyncio.sleep(2)
        finally:
            await consumer.stop()
        print()
        offsets = await committed(settings, list(sent))
        open_inputs = [w for w, f in fate.items() if f == "open"]
        lost = [w for w in open_inputs if w[2] < offsets.get((w[0], w[1]), 0)]
        wedged = [w for w in open_inputs if w not in lost]
        supervisor = ProcessSupervisor(settings.state_dir)
        dead = [name for name in (*INFRA_PARTS, *SERVICES) if supervisor.pid(name) is None]
        reasons = Counter(f.removeprefix("dlq:") for f in fate.values() if f.startswith("dlq:"))
        fuzz = {w: f for w, f in fate.items() if sent[w][0] != "good"}
        result = {
            "inputs_sent": len(fuzz),
            "by_topic": dict(Counter(w[0] for w in fuzz)),
            "by_kind": dict(Counter(sent[w][0].split(":")[0] for w in fuzz)),
            "good_requests": len(good),
            "good_closed": sum(1 for v in views.values() if v and v["status"] in CLOSED_STATUSES),
            "processed": sum(1 for f in fuzz.values() if f == "processed"),
            "dlq": sum(1 for f in fuzz.values() if f.startswith("dlq:")),
            "dlq_by_reason": dict(sorted(reasons.items())),
            "lost": len(lost),
            "wedged": len(wedged),
            "dead_processes": dead,
            "open_examples": [{"topic": w[0], "partition": w[1], "offset": w[2], "kind": sent[w][0]}
                              for w in open_inputs[:20]],  # fmt: skip
            "seconds": round(time.monotonic() - started),
        }
        violations = len(lost) + len(wedged) + len(dead) + (len(good) - result["good_closed"])
        result["violations"] = violations
        Path("bench-results").mkdir(exist_ok=True)
        Path("bench-results/fuzz.json").write_text(json.dumps(result, indent=2) + "\n")
        print(json.dumps({k: v for k, v in result.items() if k != "open_examples"}, indent=2))
        await ledger.close()
        return min(violations, 100)
    finally:
        await shut_down(settings, stack)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="Fuzz the input topics on the embedded stack.")
    parser.add_argument("--schema-events", type=int, default=60, help="per topic, from the JSON Schema")
    parser.add_argument("--mutations", type=int, default=45, help="per topic, mutated bytes")
    parser.add_argument("--good", type=int, default=len(TENANTS) * 5, help="good erasure requests")
    parser.add_argument("--timeout", type=float, default=300, help="seconds to wait for the accounting")
    options = parser.parse_args()
    code = asyncio.run(main(options.schema_events, options.mutations, options.good, options.timeout))
    sys.stdout.flush()
    os._exit(code)  # temporalio sdk-python #300: a clean exit can hang
