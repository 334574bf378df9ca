"""Make a fresh stack usable: our database, the contract's topics."""

from __future__ import annotations

import asyncio
import contextlib

import asyncpg
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError

from schemas.contract import ALL_TOPICS
from workers.connectors.opendsr.registration import register_directory
from workers.ledger.partners import PartnerStore
from workers.runtime.settings import Settings

TOPIC_PARTITIONS = 4


async def ensure_database(settings: Settings, name: str) -> bool:
    """Create database ``name`` if missing; True when created now."""
    conn = await asyncpg.connect(settings.pg_dsn("postgres"))
    try:
        exists = await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name)
        if exists:
            return False
        await conn.execute(f'CREATE DATABASE "{name}"')
        return True
    finally:
        await conn.close()


async def ensure_topics(settings: Settings, topics: tuple[str, ...] = ALL_TOPICS) -> None:
    """Create the contract's topics with several partitions (idempotent)."""
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap)
    for attempt in range(30):
        try:
            await admin.start()
            break
        except Exception:  # noqa: BLE001 - the broker may still be starting
            if attempt == 29:
                raise
            await asyncio.sleep(0.5)
    try:
        existing = set(await admin.list_topics())
        missing = [t for t in topics if t not in existing]
        if missing:
            # Another process may create them between our list and our create.
            with contextlib.suppress(TopicAlreadyExistsError):
                await admin.create_topics(
                    [NewTopic(t, num_partitions=TOPIC_PARTITIONS, replication_factor=1) for t in missing]
                )
    finally:
        await admin.close()


async def register_sandbox_partners(settings: Settings) -> list[dict[str, object]]:
    """Register the running sandbox partners (their discovery and certificates) with our ledger."""
    pool = await asyncpg.create_pool(settings.pg_dsn(), min_size=1, max_size=2)
    try:
        return await register_directory(
            PartnerStore(pool), settings.sandbox_dir / "partners" / "directory.json"
        )
    finally:
        await pool.close()
