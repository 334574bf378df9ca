"""The ledger's numbered migrations on the real PostgreSQL: each applied once and in order, also by
runners started together; a ledger created before migrations adopted; an edited migration refused.

Each test works in a database of its own on the stack's server, dropped afterwards.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import asyncpg
import pytest

from tests.integration.conftest import RunningStack
from workers.ledger.migrate import MigrationError, baseline_sql, load_migrations, migrate

ALL = [m.name for m in load_migrations()]


@asynccontextmanager
async def scratch_database(stack: RunningStack) -> AsyncIterator[str]:
    """A new empty database on the stack's server; yields its DSN, drops it after."""
    name = f"ledger_migrations_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(stack.settings.pg_dsn("postgres"))
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        try:
            yield stack.settings.pg_dsn(name)
        finally:
            await admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
    finally:
        await admin.close()


@asynccontextmanager
async def connected(dsn: str) -> AsyncIterator[asyncpg.Connection]:
    conn = await asyncpg.connect(dsn)
    try:
        yield conn
    finally:
        await conn.close()


async def recorded(conn: asyncpg.Connection) -> list[tuple[int, str, str]]:
    rows = await conn.fetch("SELECT version, name, checksum FROM schema_migrations ORDER BY version")
    return [(r["version"], r["name"], r["checksum"]) for r in rows]


async def schema(conn: asyncpg.Connection, *, positions: bool = True) -> dict[str, Any]:
    """Tables and columns (type, default, nullability, optionally position), indexes, constraints."""
    columns = await conn.fetch(
        """
        SELECT table_name, column_name, ordinal_position, data_type, udt_name, column_default,
               is_nullable
          FROM information_schema.columns WHERE table_schema = 'public'
        """
    )
    indexes = await conn.fetch("SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public'")
    constraints = await conn.fetch(
        """
        SELECT c.conrelid::regclass::text AS table_name, c.conname, pg_get_constraintdef(c.oid) AS def
          FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace
         WHERE n.nspname = 'public'
        """
    )
    return {
        "columns": {
            (r["table_name"], r["column_name"]): (
                r["ordinal_position"] if positions else None,
                r["data_type"],
                r["udt_name"],
                r["column_default"],
                r["is_nullable"],
            )
            for r in columns
        },
        "indexes": {r["indexname"]: r["indexdef"] for r in indexes},
        "constraints": {(r["table_name"], r["conname"]): r["def"] for r in constraints},
    }


async def test_a_fresh_ledger_gets_every_migration_once_in_order_and_a_second_run_applies_nothing(
    stack: RunningStack, caplog: pytest.LogCaptureFixture
):
    assert ALL[0] == "0001_requests" and len(ALL) >= 6
    async with scratch_database(stack) as dsn, connected(dsn) as conn:
        with caplog.at_level(logging.INFO, logger="workers.ledger"):
            assert await migrate(conn) == ALL
        for name in ALL:
            assert name in caplog.text, f"{name} was not logged"
        rows = await recorded(conn)
        assert [(v, n, c) for v, n, c in rows] == [(m.version, m.name, m.checksum) for m in load_migrations()]
        order = await conn.fetch("SELECT version FROM schema_migrations ORDER BY applied_at, version")
        assert [r["version"] for r in order] == [v for v, _, _ in rows]
        before = await schema(conn)
        assert {"requests", "request_systems", "reports", "legal_holds", "audit_log", "partners"} <= {
            table for table, _ in before["columns"]
        }

        assert await migrate(conn) == []
        assert await recorded(conn) == rows
        assert await schema(conn) == before


async def test_runners_started_together_apply_each_migration_exactly_once(stack: RunningStack):
    async with scratch_database(stack) as dsn:
        pool = await asyncpg.create_pool(dsn, min_size=1, max_size=2)
        try:
            async with connected(dsn) as one, connected(dsn) as two:
                results = await asyncio.gather(migrate(one), migrate(two), migrate(pool))
                applied = [name for result in results for name in result]
                assert sorted(applied) == ALL, results
                assert [n for _, n, _ in await recorded(one)] == ALL
        finally:
            await pool.close()


async def test_a_ledger_created_before_migrations_is_adopted_with_the_same_schema_as_a_fresh_one(
    stack: RunningStack,
):
    async with scratch_database(stack) as fresh_dsn, connected(fresh_dsn) as fresh:
        await migrate(fresh)
        want = await schema(fresh)
        want_loose = await schema(fresh, positions=False)

    # The last release before migrations: its SQL, run at every start, is baseline.sql verbatim.
    async with scratch_database(stack) as dsn, connected(dsn) as conn:
        await conn.execute(baseline_sql())
        await conn.execute(baseline_sql())  # as every start of the old code did
        request_id = uuid.uuid4()
        await conn.execute(
            """
            INSERT INTO requests (request_id, tenant, type, jurisdiction, status, submitted_at, due_at,
                                  workflow_id)
            VALUES ($1, 't', 'access', 'CI', 'received', now(), now(), 'w')
            """,
            request_id,
        )
        # Nothing of the baseline to run (its tables are there, now recorded); later migrations apply.
        assert await migrate(conn) == ALL[6:]
        assert [n for _, n, _ in await recorded(conn)] == ALL
        assert await schema(conn) == want
        assert await conn.fetchval("SELECT count(*) FROM requests WHERE request_id = $1", request_id) == 1
        assert await migrate(conn) == []

    # An older release: no consent tables yet, no details_digest, no subject index.
    async with scratch_database(stack) as dsn, connected(dsn) as conn:
        await conn.execute(baseline_sql())
        await conn.execute(
            """
            DROP TABLE consent_batches, consent_events, consent_evidence, suppressions;
            DROP INDEX requests_by_subject;
            ALTER TABLE requests DROP COLUMN details_digest;
            """
        )
        assert await migrate(conn) == ALL[6:]
        assert [n for _, n, _ in await recorded(conn)] == ALL
        # A dropped column keeps its position number, so positions are left out here.
        assert await schema(conn, positions=False) == want_loose


async def test_an_applied_migration_whose_file_changed_is_refused_by_name(stack: RunningStack):
    async with scratch_database(stack) as dsn, connected(dsn) as conn:
        await migrate(conn)
        await conn.execute("UPDATE schema_migrations SET checksum = 'edited' WHERE version = 3")
        with pytest.raises(MigrationError, match=r"0003_audit_log\.sql has changed"):
            await migrate(conn)
        # The runner released its lock: another runner is not left waiting.
        held = await conn.fetchval(
            """
            SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'
               AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
            """
        )
        assert held == 0
