"""make chaos: faults during a run of a few hundred requests across tenants, then invariants.

While requests stream in, every one of our processes is SIGKILLed and restarted (worker, intake,
API, the sandbox's async tools), the Temporal dev server is restarted, requests are published
twice and confirmations re-published out of order. At the end:
  - every request is terminal (or flagged overdue), and exactly one workflow run exists for it;
  - no request was lost: every published request is in the ledger;
  - no side effect was applied twice in a harmful way: every system's outcome is final and the
    expected one, and the subject's rows are gone where the pack erases;
  - the DLQ holds only the bad input we sent.
Results go to bench-results/chaos.json; the exit code is the number of violations (capped).
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
from pathlib import Path
from typing import Any

import asyncpg
from aiokafka import AIOKafkaConsumer

TENANTS = (("upjunoo", "CI"), ("jump", "BE"), ("jsm", "BE"), ("nexio", "BE"))
FINAL_ERASURE = {"erased", "anonymised", "retained", "not_found", "notified", "refused"}


async def seed(settings: Any, count: int) -> list[tuple[str, str, dict[str, str]]]:
    """``count`` subjects spread over the tenants, each with a CRM record to erase."""
    subjects = []
    for i in range(count):
        tenant, jurisdiction = TENANTS[i % len(TENANTS)]
        email = f"chaos-{i}-{uuid.uuid4().hex[:6]}@example.org"
        conn = await asyncpg.connect(settings.pg_dsn(f"sandbox_{tenant}_crm"))
        try:
            await conn.execute(
                "INSERT INTO customers (customer_id, email, full_name, country) VALUES ($1, $2, 'Chaos', $3)",
                f"X-{i}-{email}",
                email,
                jurisdiction,
            )
        finally:
            await conn.close()
        subjects.append((tenant, jurisdiction, {"email": email}))
    return subjects


async def confirm_manual_steps(settings: Any, views: dict[str, Any], confirmed: set[str]) -> None:
    """Act as the operator for systems without an API (e.g. JSM's direct-mail processor) and for
    the sandbox's silent partner (Jump's Tangier office, which confirms by phone)."""
    import json

    import aiohttp

    from orchestrator.api.auth import token_for
    from orchestrator.policy.packs import load_packs
    from orchestrator.policy.plan import plan_request

    packs = load_packs()
    directory = json.loads((settings.sandbox_dir / "partners" / "directory.json").read_text())
    silent = {name for name, entry in directory.items() if entry["behaviour"] == "silent"}
    headers = {"Authorization": f"Bearer {token_for(settings.state_dir, 'operator')}"}
    async with aiohttp.ClientSession(headers=headers) as http:
        for request_id, view in views.items():
            if not view:
                continue
            manual = {s.system for s in plan_request(packs[view["tenant"]], view["type"])
                      if s.connector["kind"] == "manual" or s.connector.get("partner") in silent}  # fmt: skip
            for system in view["systems"]:
                key = f"{request_id}/{system['system']}"
                if system["system"] in manual and system["outcome"] == "pending" and key not in confirmed:
                    url = (
                        f"{settings.api_url}/v1/requests/{request_id}/systems/{system['system']}/confirmation"
                    )
                    async with http.post(url, json={"outcome": "notified", "reason": "letter sent"}) as reply:
                        if reply.status == 200:
                            confirmed.add(key)


async def faults(settings: Any, stack: Any, log: list[str], stop: asyncio.Event) -> None:
    """Kill -9 and restart each of our processes, restart Temporal, one after another."""
    from infra.processes import ProcessSupervisor
    from infra.services import start_service

    supervisor = ProcessSupervisor(settings.state_dir)
    for name in ("worker", "intake", "temporal", "api", "sandbox", "worker"):
        await asyncio.sleep(4)
        if stop.is_set():
            return
        try:
            if name == "temporal":
                await asyncio.to_thread(stack.down, ("temporal",))
                await asyncio.sleep(1)
                await asyncio.to_thread(stack.up)
                log.append(f"{time.strftime('%X')} restarted the Temporal dev server")
            else:
                supervisor.kill(name)
                log.append(f"{time.strftime('%X')} SIGKILLed {name}")
                await asyncio.sleep(1)
                started = time.monotonic()
                await asyncio.to_thread(start_service, settings, name)
                log.append(
                    f"{time.strftime('%X')} restarted {name}, ready in {time.monotonic() - started:.1f}s"
                )
        except Exception as exc:  # noqa: BLE001 - a restart that fails is a finding, not the end of the run
            log.append(f"{time.strftime('%X')} FAILED to restart {name}: {exc}")


async def republish_confirmations(settings: Any, count: int) -> int:
    """Re-publish confirmations already delivered, shuffled: duplicates, out of order."""
    from orchestrator.cli.demo import publish
    from schemas import CONFIRMATIONS_TOPIC

    consumer = AIOKafkaConsumer(
        CONFIRMATIONS_TOPIC,
        bootstrap_servers=settings.kafka_bootstrap,
        group_id=f"chaos-{uuid.uuid4()}",
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    await consumer.start()
    try:
        batch = await consumer.getmany(timeout_ms=3000, max_records=count)
    finally:
        await consumer.stop()
    values = [json.loads(m.value) for records in batch.values() for m in records]
    random.shuffle(values)
    await publish(settings, values, topic=CONFIRMATIONS_TOPIC)
    return len(values)


async def main(count: int, timeout: float) -> int:
    from infra.launch import launch, shut_down
    from orchestrator.cli.demo import publish, rights_request
    from orchestrator.workflows.search import REGISTRATION
    from schemas import DLQ_TOPIC
    from schemas.vocabulary import CLOSED_STATUSES
    from workers.ledger import Ledger
    from workers.runtime.temporal_client import connect

    print("Starting the embedded stack and our services ...")
    os.environ.setdefault("PRIVACY_SANDBOX_PARTNER_DELAY", "3")  # the slow partner: seconds, not 20
    settings, stack = await launch(Path(tempfile.mkdtemp(prefix="privacy-chaos-")), REGISTRATION)
    fault_log: list[str] = []
    try:
        subjects = await seed(settings, count)
        requests = [rights_request(t, "erasure", s, j) for t, j, s in subjects]
        bad = [b"{broken json " + str(i).encode() for i in range(0, len(requests), 50)]
        stop = asyncio.Event()
        chaos = asyncio.create_task(faults(settings, stack, fault_log, stop))
        print(f"Publishing {len(requests)} erasure requests (a fifth of them twice) while faults happen ...")
        for i in range(0, len(requests), 10):
            chunk = requests[i : i + 10]
            await publish(settings, chunk + chunk[:2] + ([bad[i // 50]] if i % 50 == 0 else []))
            await asyncio.sleep(0.5)
        await chaos
        replayed = await republish_confirmations(settings, 50)
        ledger = await Ledger.connect(settings.pg_dsn())
        client = await connect(settings, attempts=30)
        deadline = time.monotonic() + timeout
        views: dict[str, Any] = {}
        confirmed: set[str] = set()
        shown = -1
        while time.monotonic() < deadline:
            for r in requests:
                views[r["request_id"]] = await ledger.request(r["request_id"])
            await confirm_manual_steps(settings, views, confirmed)
            done = sum(1 for v in views.values() if v and v["status"] in CLOSED_STATUSES)
            if done != shown:
                print(f"\r  {done}/{len(requests)} requests closed", end="", flush=True)
                shown = done
            if done == len(requests):
                break
            await asyncio.sleep(2)
        print()
        counts = {
            "lost": 0,
            "not_terminal": 0,
            "runs_not_one": 0,
            "bad_outcomes": 0,
            "rows_left": 0,
            "dlq_unexpected": 0,
            "completed_by_earlier_attempt": 0,
        }
        stuck: list[dict[str, Any]] = []
        for r in requests:
            view = views.get(r["request_id"])
            if view is None:
                counts["lost"] += 1
                continue
            if view["status"] not in CLOSED_STATUSES and "overdue" not in view["flags"]:
                counts["not_terminal"] += 1
                waiting = [s["system"] for s in view["systems"] if s["outcome"] not in FINAL_ERASURE]
                stuck.append({"request_id": r["request_id"], "tenant": r["tenant"], "waiting_on": waiting})
            runs = [
                w async for w in client.list_workflows(f"WorkflowId = 'privacy-request-{r['request_id']}'")
            ]
            counts["runs_not_one"] += len(runs) != 1
            for system in view["systems"]:
                counts["bad_outcomes"] += system["outcome"] not in FINAL_ERASURE
                counts["completed_by_earlier_attempt"] += bool(
                    system["evidence"].get("completed_by_earlier_attempt")
                )
            conn = await asyncpg.connect(settings.pg_dsn(f"sandbox_{r['tenant']}_crm"))
            try:
                counts["rows_left"] += await conn.fetchval(
                    "SELECT count(*) FROM customers WHERE email = $1", r["subject"]["email"]
                )
            finally:
                await conn.close()
        consumer = AIOKafkaConsumer(
            DLQ_TOPIC,
            bootstrap_servers=settings.kafka_bootstrap,
            group_id=f"chaos-{uuid.uuid4()}",
            auto_offset_reset="earliest",
        )
        await consumer.start()
        try:
            batch = await consumer.getmany(timeout_ms=3000, max_records=1000)
        finally:
            await consumer.stop()
        dlq = [json.loads(m.value) for records in batch.values() for m in records]
        counts["dlq_unexpected"] = sum(1 for d in dlq if not d["raw"].startswith("{broken json"))
        violations = sum(v for k, v in counts.items() if k != "completed_by_earlier_attempt")
        result = {
            "requests": len(requests),
            "duplicates_published": len(requests) // 5,
            "manual_steps_confirmed_by_operator": len(confirmed),
            "bad_events": len(bad),
            "dlq_records": len(dlq),
            "confirmations_replayed": replayed,
            "faults": fault_log,
            "counts": counts,
            "violations": violations,
            "not_terminal_examples": stuck[:20],
        }
        Path("bench-results").mkdir(exist_ok=True)
        Path("bench-results/chaos.json").write_text(json.dumps(result, indent=2) + "\n")
        print("\n".join(fault_log))
        print(
            json.dumps(
                {
                    k: result[k]
                    for k in ("requests", "dlq_records", "confirmations_replayed", "counts", "violations")
                },
                indent=2,
            )
        )
        await ledger.close()
        return min(violations, 100)
    finally:
        await shut_down(settings, stack)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="Fault run on the embedded stack (see module docstring).")
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument(
        "--timeout", type=float, default=600, help="seconds to wait for every request to close"
    )
    options = parser.parse_args()
    code = asyncio.run(main(options.requests, options.timeout))
    sys.stdout.flush()
    os._exit(code)
