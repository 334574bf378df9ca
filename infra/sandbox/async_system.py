"""The sandbox's asynchronous downstream tools (e.g. UPJUNOO's marketing list).

A real separate service: it consumes privacy.system-tasks.v1 with its own consumer group,
acts on its own database, and answers later on privacy.confirmations.v1 — as a SaaS tool
wired through Kafka would. It de-duplicates tasks by ``task_id`` like a careful system does.
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
from workers.settings import Settings

log = logging.getLogger("sandbox.async_system")


class AsyncSandboxSystem:
    def __init__(self, tenant: str, config: dict[str, Any], pool: asyncpg.Pool) -> None:
        self.tenant = tenant
        self.name = config["system"]
        self.table = config["table"]
        self.match: dict[str, str] = config["match"]
        self.pool = pool

    def _where(self, subject: dict[str, str]) -> tuple[str, list[str]]:
        clauses, params = [], []
        for identity, column in self.match.items():
            if identity in subject:
                params.append(subject[identity])
                clauses.append(f'lower("{column}") = lower(${len(params)})')
        return " OR ".join(clauses) or "false", params

    async def handle(self, task: dict[str, Any]) -> dict[str, Any]:
        done = await self.pool.fetchval(
            "SELECT outcome FROM processed_tasks WHERE task_id = $1", task["task_id"]
        )
        where, params = self._where(task["subject"])
        answer: dict[str, Any] = {"request_id": task["request_id"], "system": self.name}
        if task["action"] == "export":
            rows = await self.pool.fetch(f'SELECT * FROM "{self.table}" WHERE {where}', *params)
            answer["records"] = [
                {k: v if isinstance(v, str | int | type(None)) else str(v) for k, v in dict(r).items()}
                for r in rows
            ]
            answer["outcome"] = "exported" if rows else "not_found"
            answer["evidence"] = {"contacts": len(rows)}
        elif done:  # an erasure already applied: answer the same again
            answer["outcome"] = done
            answer["evidence"] = {"repeat_of_task": task["task_id"]}
        else:
            async with self.pool.acquire() as conn, conn.transaction():
                status = await conn.execute(f'DELETE FROM "{self.table}" WHERE {where}', *params)
                deleted = int(status.split()[-1])
                answer["outcome"] = "erased" if deleted else "not_found"
                answer["evidence"] = {"contacts_deleted": deleted}
                await conn.execute(
                    "INSERT INTO processed_tasks (task_id, outcome) VALUES ($1, $2) ON CONFLICT DO NOTHING",
                    task["task_id"],
                    answer["outcome"],
                )
        answer["at"] = datetime.now(UTC).isoformat()
        return answer


async def serve(settings: Settings) -> None:
    systems: dict[tuple[str, str], AsyncSandboxSystem] = {}
    for folder in tenant_folders():
        for config in systems_config(folder).get("async_systems", []):
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
        async for message in consumer:
            task = json.loads(message.value)
            system = systems.get((task.get("tenant", ""), task.get("system", "")))
            if system is not None:
                answer = await system.handle(task)
                validate(CONFIRMATIONS_TOPIC, answer)
                # A real tool takes its time; a short pause keeps the demo honest about "async".
                await asyncio.sleep(0.2)
                await producer.send_and_wait(
                    task.get("reply_topic", CONFIRMATIONS_TOPIC),
                    json.dumps(answer).encode(),
                    key=task["request_id"].encode(),
                )
                log.info("task for request %s on %s: %s", task["request_id"], system.name, answer["outcome"])
            await consumer.commit()
    finally:
        await consumer.stop()
        await producer.stop()
