"""The sandbox's asynchronous downstream tools (e.g. UPJUNOO's marketing list).

A real separate service: it consumes privacy.system-tasks.v1 with its own consumer group,
acts on its own database, and answers later on privacy.confirmations.v1 — as a SaaS tool
wired through Kafka would. It de-duplicates tasks by ``task_id`` like a careful system does,
and echoes the task's ``task_id`` and ``tenant`` in every answer: the intake takes no answer
that does not carry the id issued with the task.
"""

from __future__ import annotations

import asyncio
import json
import logging
from datetime import UTC, datetime
from typing import Any

import asyncpg
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from infra.sandbox.seed import systems_config, tenant_folders
from schemas import CONFIRMATIONS_TOPIC, SYSTEM_TASKS_TOPIC, validate
from workers.runtime.settings import Settings

log = logging.getLogger("sandbox.async_system")


class AsyncSandboxSystem:
    def __init__(self, tenant: str, config: dict[str, Any], pool: asyncpg.Pool | None) -> None:
        self.tenant = tenant
        self.name = config["system"]
        self.table = config.get("table", "")
        self.match: dict[str, str] = config.get("match", {})
        self.pool = pool  # None for a recipient that only acknowledges notifications

    def _where(
        self, subject: dict[str, str], linked: dict[str, list[str]] | None = None
    ) -> tuple[str, list[str]]:
        """The subject's contacts: by each identity given and each one the controller linked."""
        clauses, params = [], []
        for identity, column in self.match.items():
            values = ([subject[identity]] if identity in subject else []) + (linked or {}).get(identity, [])
            for value in values:
                params.append(value)
                clauses.append(f'lower("{column}") = lower(${len(params)})')
        return " OR ".join(clauses) or "false", params

    def _answer_to(self, task: dict[str, Any]) -> dict[str, Any]:
        """The answer's head: which task of which tenant it answers."""
        return {"request_id": task["request_id"], "system": self.name, "task_id": task["task_id"],
                "tenant": self.tenant}  # fmt: skip

    async def handle(self, task: dict[str, Any]) -> dict[str, Any]:
        answer = self._answer_to(task)
        action = task["action"]
        if self.pool is None:
            answer.update(
                outcome="notified" if action == "notify" else "refused",
                evidence={"acknowledged": task["details"].get("request_type")},
                at=datetime.now(UTC).isoformat(),
            )
            if action != "notify":
                answer["reason"] = f"{self.name} only receives notifications"
            return answer
        done = await self.pool.fetchval(
            "SELECT outcome FROM processed_tasks WHERE task_id = $1", task["task_id"]
        )
        where, params = self._where(task["subject"], task.get("linked_identities"))
        if action == "export":
            rows = await self.pool.fetch(f'SELECT * FROM "{self.table}" WHERE {where}', *params)
            answer["records"] = [
                {k: v if isinstance(v, str | int | type(None)) else str(v) for k, v in dict(r).items()}
                for r in rows
            ]
            answer["outcome"] = "exported" if rows else "not_found"
            answer["evidence"] = {"contacts": len(rows)}
        elif action == "notify":
            answer["outcome"] = "notified"
            answer["evidence"] = {"acknowledged": task["details"].get("request_type")}
        elif done:  # a change already applied: answer the same again
            answer["outcome"] = done
            answer["evidence"] = {"repeat_of_task": task["task_id"]}
        else:
            async with self.pool.acquire() as conn, conn.transaction():
                answer.update(await self._change(conn, task, where, params))
                await conn.execute(
                    "INSERT INTO processed_tasks (task_id, outcome) VALUES ($1, $2) ON CONFLICT DO NOTHING",
                    task["task_id"],
                    answer["outcome"],
                )
        answer["at"] = datetime.now(UTC).isoformat()
        return answer

    async def handle_batch(self, task: dict[str, Any]) -> dict[str, Any]:
        """A batch task (consent withdrawals): every subject at once, one answer for the batch."""
        answer = self._answer_to(task)
        subjects: list[dict[str, str]] = task["subjects"]
        if self.pool is None or task["action"] == "notify":
            answer.update(outcome="notified", evidence={"acknowledged": len(subjects)})
        elif task["action"] != "stop_processing":
            answer.update(
                outcome="refused", reason=f"batches of {task['action']} are not supported", evidence={}
            )
        else:
            async with self.pool.acquire() as conn, conn.transaction():
                done = await conn.fetchval(
                    "SELECT outcome FROM processed_tasks WHERE task_id = $1", task["task_id"]
                )
                removed = 0
                if not done:
                    removed = await self._stop_many(conn, subjects)
                    await conn.execute(
                        "INSERT INTO processed_tasks (task_id, outcome) VALUES ($1, 'consent_withdrawn')"
                        " ON CONFLICT DO NOTHING",
                        task["task_id"],
                    )
            answer.update(
                outcome="consent_withdrawn",
                evidence={"subjects": len(subjects), "contacts_removed": removed, "suppressed": True,
                          **({"repeat_of_task": task["task_id"]} if done else {})},
            )  # fmt: skip
        answer["at"] = datetime.now(UTC).isoformat()
        return answer

    async def _stop_many(self, conn: asyncpg.Connection, subjects: list[dict[str, str]]) -> int:
        """Remove the subjects' contacts and suppress their identities, in two statements."""
        identities = [
            (kind, value.lower()) for s in subjects for kind, value in s.items() if kind in self.match
        ]
        if not identities:
            return 0
        kinds, values = [k for k, _ in identities], [v for _, v in identities]
        given = "SELECT v FROM unnest($1::text[], $2::text[]) AS i(k, v) WHERE k = '{}'"
        clauses = " OR ".join(
            f'lower("{column}") IN ({given.format(kind)})' for kind, column in self.match.items()
        )
        status = await conn.execute(f'DELETE FROM "{self.table}" WHERE {clauses}', kinds, values)
        await conn.execute(
            "INSERT INTO suppressions (identity, value) SELECT * FROM unnest($1::text[], $2::text[])"
            " ON CONFLICT DO NOTHING",
            kinds,
            values,
        )
        return int(status.split()[-1])

    async def _change(
        self, conn: asyncpg.Connection, task: dict[str, Any], where: str, params: list[str]
    ) -> dict[str, Any]:
        """Erase, stop processing (with a suppression entry), restrict or rectify a contact."""
        action = task["action"]
        if action in ("erase", "stop_processing"):
            status = await conn.execute(f'DELETE FROM "{self.table}" WHERE {where}', *params)
            count = int(status.split()[-1])
            if action == "erase":
                # The tool proves its own erasure: it looks for the subject again.
                remaining = await conn.fetchval(f'SELECT count(*) FROM "{self.table}" WHERE {where}', *params)
                verification = {"remaining": remaining, "checked_at": datetime.now(UTC).isoformat()}
                return {
                    "outcome": "erased" if count else "not_found",
                    "evidence": {"contacts_deleted": count, "verification": verification},
                }
            # A suppression entry keeps the subject from being re-added by a later import.
            for identity, value in task["subject"].items():
                if identity in self.match:
                    await conn.execute(
                        "INSERT INTO suppressions (identity, value) VALUES ($1, lower($2))"
                        " ON CONFLICT DO NOTHING",
                        identity,
                        value,
                    )
            outcome = (
                "consent_withdrawn"
                if task["details"].get("request_type") == "consent_withdrawal"
                else ("processing_stopped")
            )
            return {"outcome": outcome, "evidence": {"contacts_removed": count, "suppressed": True}}
        if action == "restrict":
            status = await conn.execute(f'UPDATE "{self.table}" SET restricted = true WHERE {where}', *params)
            count = int(status.split()[-1])
            return {
                "outcome": "restricted" if count else "not_found",
                "evidence": {"contacts_restricted": count},
            }
        if action == "rectify":
            corrections = task["details"].get("corrections") or {}
            columns = [c for c in ("email", "phone") if c in corrections]
            if not columns:
                return {"outcome": "rectified", "evidence": {"fields": []}}
            sets = ", ".join(f'"{c}" = ${len(params) + i + 1}' for i, c in enumerate(columns))
            values = [corrections[c] for c in columns]
            status = await conn.execute(f'UPDATE "{self.table}" SET {sets} WHERE {where}', *params, *values)
            count = int(status.split()[-1])
            return {"outcome": "rectified" if count else "not_found", "evidence": {"fields": columns}}
        return {"outcome": "refused", "reason": f"this tool cannot {action}", "evidence": {}}


async def _answer(
    systems: dict[tuple[str, str], AsyncSandboxSystem], producer: AIOKafkaProducer, task: dict[str, Any]
) -> None:
    system = systems.get((task.get("tenant", ""), task.get("system", "")))
    if system is None:
        return
    answer = await (system.handle_batch(task) if "subjects" in task else system.handle(task))
    validate(CONFIRMATIONS_TOPIC, answer)
    # A real tool takes its time; a short pause keeps the demo honest about "async".
    await asyncio.sleep(0.2)
    await producer.send_and_wait(
        task.get("reply_topic", CONFIRMATIONS_TOPIC),
        json.dumps(answer).encode(),
        key=task["request_id"].encode(),
    )
    log.info("task for request %s on %s: %s", task["request_id"], system.name, answer["outcome"])


async def serve(settings: Settings) -> None:
    systems: dict[tuple[str, str], AsyncSandboxSystem] = {}
    for folder in tenant_folders():
        for config in systems_config(folder).get("async_systems", []):
            pool = None
            if not config.get("notify_only"):
                pool = await asyncpg.create_pool(settings.pg_dsn(config["database"]), min_size=1, max_size=4)
            systems[(folder.name, config["system"])] = AsyncSandboxSystem(folder.name, config, pool)
    consumer = AIOKafkaConsumer(
        SYSTEM_TASKS_TOPIC,
        bootstrap_servers=settings.kafka_bootstrap,
        group_id="sandbox-async-systems",
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    producer = AIOKafkaProducer(bootstrap_servers=settings.kafka_bootstrap, acks="all")
    await consumer.start()
    await producer.start()
    (settings.state_dir / "run").mkdir(parents=True, exist_ok=True)
    (settings.state_dir / "run" / "sandbox.ready").write_text("ready")
    log.info("sandbox async systems ready: %s", sorted(f"{t}/{s}" for t, s in systems))
    try:
        while True:
            # Like a real tool, work on many tasks at once; commit once the whole batch answered.
            batch = await consumer.getmany(timeout_ms=500, max_records=200)
            messages = [m for records in batch.values() for m in records]
            await asyncio.gather(*(_answer(systems, producer, json.loads(m.value)) for m in messages))
            if messages:
                await consumer.commit()
    finally:
        await consumer.stop()
        await producer.stop()


async def import_contacts(conn: asyncpg.Connection, table: str, contacts: list[dict[str, Any]]) -> int:
    """The marketing tool's import (a CRM sync, a purchased list): suppressed people are skipped.

    Returns how many contacts were added.
    """
    added = 0
    for contact in contacts:
        suppressed = await conn.fetchval(
            "SELECT true FROM suppressions WHERE (identity = 'email' AND value = lower($1))"
            " OR (identity = 'phone' AND value = lower($2))",
            contact.get("email") or "",
            contact.get("phone") or "",
        )
        if suppressed:
            continue
        status = await conn.execute(
            f'INSERT INTO "{table}" (contact_id, email, phone, purposes, opted_in_at)'
            " VALUES ($1, $2, $3, $4, now()) ON CONFLICT DO NOTHING",
            contact["contact_id"],
            contact.get("email"),
            contact.get("phone"),
            contact.get("purposes", ["marketing"]),
        )
        added += int(status.split()[-1])
    return added
