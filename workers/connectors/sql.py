"""SQL connector: a system whose data lives in PostgreSQL tables named by the policy pack.

Pack shape: ``{"kind": "sql", "database": ..., "tables": [{"table": ..., "match":
{identity: column}}], "restrict_column": ...}``. Tables are handled in pack order, so
children come before their parents on delete.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import asyncpg

from workers.connectors.base import (
    Connector,
    ConnectorError,
    ConnectorResult,
    identifier,
    json_ready,
    subject_filter,
)
from workers.connectors.pools import DatabasePools
from workers.messages import SystemTaskInput
from workers.periods import add_iso_period


class SqlConnector(Connector):
    def __init__(self, pools: DatabasePools) -> None:
        self._pools = pools

    async def _pool(self, task: SystemTaskInput) -> asyncpg.Pool:
        database = task.step.connector.get("database")
        if not database:
            raise ConnectorError("sql connector needs 'database' in the pack", retryable=False)
        return await self._pools.get(database)

    @staticmethod
    def _tables(task: SystemTaskInput) -> list[tuple[str, str, list[str]]]:
        """(quoted table, WHERE condition, params) for each table that can match the subject."""
        found = []
        for spec in task.step.connector.get("tables", []):
            condition, params = subject_filter(task.subject, spec["match"])
            if condition:
                found.append((identifier(spec["table"]), condition, params))
        return found

    async def locate(self, task: SystemTaskInput) -> int:
        pool = await self._pool(task)
        total = 0
        for table, condition, params in self._tables(task):
            total += int(await pool.fetchval(f"SELECT count(*) FROM {table} WHERE {condition}", *params))
        return total

    async def export(self, task: SystemTaskInput) -> ConnectorResult:
        pool = await self._pool(task)
        records: list[dict[str, Any]] = []
        counts = {}
        for table, condition, params in self._tables(task):
            rows = await pool.fetch(f"SELECT * FROM {table} WHERE {condition}", *params)
            counts[table.strip('"')] = len(rows)
            records.extend({"table": table.strip('"'), **json_ready(dict(r))} for r in rows)
        outcome = "exported" if records else "not_found"
        return ConnectorResult(outcome, evidence={"records_by_table": counts}, records=records)

    async def erase(self, task: SystemTaskInput) -> ConnectorResult:
        pool = await self._pool(task)
        deleted = {}
        async with pool.acquire() as conn, conn.transaction():
            for table, condition, params in self._tables(task):
                status = await conn.execute(f"DELETE FROM {table} WHERE {condition}", *params)
                deleted[table.strip('"')] = int(status.split()[-1])
        outcome = "erased" if any(deleted.values()) else "not_found"
        return ConnectorResult(outcome, evidence={"deleted_by_table": deleted})

    async def anonymise(self, task: SystemTaskInput) -> ConnectorResult:
        """Overwrite the rule's columns: NULL where allowed, a fixed marker otherwise."""
        pool = await self._pool(task)
        wanted = set(task.step.rule.get("anonymise_columns", []))
        changed = {}
        async with pool.acquire() as conn, conn.transaction():
            for table, condition, params in self._tables(task):
                columns = await _columns(conn, table.strip('"'))
                assignments = [
                    f"{identifier(name)} = " + ("NULL" if nullable else "'anonymised'")
                    for name, nullable in columns.items()
                    if name in wanted
                ]
                if not assignments:
                    continue
                status = await conn.execute(
                    f"UPDATE {table} SET {', '.join(assignments)} WHERE {condition}", *params
                )
                changed[table.strip('"')] = int(status.split()[-1])
        outcome = "anonymised" if any(changed.values()) else "not_found"
        return ConnectorResult(outcome, evidence={"anonymised_by_table": changed, "columns": sorted(wanted)})

    async def retain(self, task: SystemTaskInput) -> ConnectorResult:
        """Keep what the legal basis requires, clear the rest, and restrict the rows."""
        pool = await self._pool(task)
        rule = task.step.rule
        clear = set(rule.get("clear_columns", []))
        restrict_column = task.step.connector.get("restrict_column")
        kept = {}
        async with pool.acquire() as conn, conn.transaction():
            for table, condition, params in self._tables(task):
                columns = await _columns(conn, table.strip('"'))
                assignments = [f"{identifier(n)} = NULL" for n in columns if n in clear and columns[n]]
                if restrict_column and restrict_column in columns:
                    assignments.append(f"{identifier(restrict_column)} = true")
                if assignments:
                    status = await conn.execute(
                        f"UPDATE {table} SET {', '.join(assignments)} WHERE {condition}", *params
                    )
                else:
                    status = "SELECT " + str(
                        await conn.fetchval(f"SELECT count(*) FROM {table} WHERE {condition}", *params)
                    )
                kept[table.strip('"')] = int(status.split()[-1])
        if not any(kept.values()):
            return ConnectorResult("not_found", evidence={"retained_by_table": kept})
        until = add_iso_period(datetime.fromisoformat(task.submitted_at), rule["retain_for"])
        return ConnectorResult(
            "retained",
            evidence={
                "retained_by_table": kept,
                "cleared_columns": sorted(clear),
                "restricted": bool(restrict_column),
            },
            legal_basis=rule["legal_basis"],
            retained_until=until.isoformat(),
        )


async def _columns(conn: asyncpg.Connection, table: str) -> dict[str, bool]:
    """Column name → nullable, for one table of the current database."""
    rows = await conn.fetch(
        "SELECT column_name, is_nullable FROM information_schema.columns WHERE table_name = $1",
        table,
    )
    return {r["column_name"]: r["is_nullable"] == "YES" for r in rows}
