"""SQL connector: a system whose data lives in PostgreSQL tables named by the policy pack.

Pack shape: ``{"kind": "sql", "database": ..., "tables": [{"table": ..., "match":
{identity: column}}], "restrict_column": ...}``. Tables are handled in pack order, so
children come before their parents on delete.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import asyncpg

from schemas.identity import normalise_identity, same_identity
from schemas.periods import add_iso_period
from workers.connectors.base import (
    BatchResult,
    BatchSubject,
    Connector,
    ConnectorError,
    ConnectorResult,
    identifier,
    json_ready,
    subject_filter,
)
from workers.connectors.pools import DatabasePools
from workers.connectors.sql_sweep import sweep_sql
from workers.messages.requests import SystemStep, SystemTaskInput
from workers.messages.retention import RetentionRule, SweepResult


class SqlConnector(Connector):
    sweeps = True

    def __init__(self, pools: DatabasePools) -> None:
        self._pools = pools

    async def sweep(
        self, rule: RetentionRule, cutoff: datetime, cursor: list[str] | None, dry_run: bool,
        held_refs: frozenset[str],
    ) -> SweepResult:  # fmt: skip
        """A retention rule's batch (``sql_sweep``): rows past their period, held subjects skipped."""
        database = rule.connector.get("database")
        if not database:
            raise ConnectorError("sql connector needs 'database' in the pack", retryable=False)
        return await sweep_sql(await self._pools.get(database), rule, cutoff, cursor, dry_run, held_refs)

    async def _pool(self, task: SystemTaskInput) -> asyncpg.Pool:
        database = task.step.connector.get("database")
        if not database:
            raise ConnectorError("sql connector needs 'database' in the pack", retryable=False)
        return await self._pools.get(database)

    def _tables(self, task: SystemTaskInput) -> list[tuple[str, str, list[str]]]:
        """(quoted table, WHERE condition, params) for each table that can match the subject."""
        return [filters for _, filters in self._specs_with_filters(task)]

    async def locate(self, task: SystemTaskInput) -> int:
        pool = await self._pool(task)
        total = 0
        for table, condition, params in self._tables(task):
            total += int(await pool.fetchval(f"SELECT count(*) FROM {table} WHERE {condition}", *params))
        return total

    async def export(self, task: SystemTaskInput) -> ConnectorResult:
        """The subject's rows; only the rule's ``columns`` when it names them (portability)."""
        pool = await self._pool(task)
        records: list[dict[str, Any]] = []
        counts = {}
        wanted = task.step.rule.get("columns")
        for table, condition, params in self._tables(task):
            if wanted:
                present = [c for c in wanted if c in await _columns_of(pool, table.strip('"'))]
                if not present:
                    continue
                selected = ", ".join(identifier(c) for c in present)
            else:
                selected = "*"
            rows = await pool.fetch(f"SELECT {selected} FROM {table} WHERE {condition}", *params)
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

    async def identities_disagree(self, task: SystemTaskInput) -> str | None:
        """Every record found by any identity must carry the other identities given, where it holds them."""
        pool = await self._pool(task)
        for spec, (table, condition, params) in self._specs_with_filters(task):
            for row in await pool.fetch(f"SELECT * FROM {table} WHERE {condition}", *params):
                for identity, column in spec["match"].items():
                    given, held = task.subject.get(identity), row.get(column)
                    if given is None or held is None:
                        continue
                    if not same_identity(identity, given, str(held)):
                        return (
                            f"the {identity} given does not belong to the record the other identities found"
                        )
        return None

    async def rectify(self, task: SystemTaskInput) -> ConnectorResult:
        """Apply ``details.corrections`` ({field: value}) through each table's field map."""
        corrections: dict[str, Any] = task.details.get("corrections") or {}
        if not corrections:
            raise ConnectorError("a rectification needs details.corrections", retryable=False)
        pool = await self._pool(task)
        updated: dict[str, list[str]] = {}
        async with pool.acquire() as conn, conn.transaction():
            for spec, (table, condition, params) in self._specs_with_filters(task):
                fields = {f: c for f, c in spec.get("fields", {}).items() if f in corrections}
                if not fields:
                    continue
                values = [corrections[f] for f in fields]
                offset = len(params)
                assignments = [
                    f"{identifier(column)} = ${offset + i + 1}" for i, column in enumerate(fields.values())
                ]
                status = await conn.execute(
                    f"UPDATE {table} SET {', '.join(assignments)} WHERE {condition}", *params, *values
                )
                if int(status.split()[-1]):
                    updated[table.strip('"')] = sorted(fields)
        if not updated and not await self.locate(task):
            return ConnectorResult("not_found", evidence={"fields_by_table": {}})
        return ConnectorResult("rectified", evidence={"fields_by_table": updated})

    async def restrict(self, task: SystemTaskInput) -> ConnectorResult:
        """Mark the subject's rows restricted: kept, not processed (Art. 18)."""
        column = task.step.connector.get("restrict_column")
        if not column:
            raise ConnectorError("restriction needs connector.restrict_column in the pack", retryable=False)
        changed = await self._set_flag(task, column)
        outcome = "restricted" if any(changed.values()) else "not_found"
        return ConnectorResult(outcome, evidence={"restricted_by_table": changed})

    async def stop_processing(self, task: SystemTaskInput) -> ConnectorResult:
        """Set the rule's flag column (an opt-out or suppression flag) on the subject's rows."""
        column = task.step.rule.get("flag_column")
        if not column:
            raise ConnectorError("stop_processing needs flag_column in the pack rule", retryable=False)
        changed = await self._set_flag(task, column)
        if not any(changed.values()):
            return ConnectorResult("not_found", evidence={"flagged_by_table": changed})
        outcome = "consent_withdrawn" if task.request_type == "consent_withdrawal" else "processing_stopped"
        purposes = task.step.rule.get("purposes", [])
        return ConnectorResult(outcome, evidence={"flagged_by_table": changed, "purposes": purposes})

    async def act_on_batch(
        self, step: SystemStep, batch_id: str, tenant: str, subjects: list[BatchSubject]
    ) -> BatchResult:
        """Consent batches: stopping is one statement per table for the whole batch, not one
        round trip per subject; other actions go subject by subject."""
        if step.action != "stop_processing":
            return await self.act_one_by_one(step, batch_id, tenant, subjects)
        found = await self.stop_processing_many(step, [entry.subject for entry in subjects])
        outcomes = ["consent_withdrawn" if hit else "not_found" for hit in found]
        return BatchResult("consent_withdrawn", outcomes)

    async def stop_processing_many(self, step: SystemStep, subjects: list[dict[str, str]]) -> list[bool]:
        """Flag many subjects' rows in one statement per table (consent batches): for each
        subject, whether any of its rows was found. Setting a flag twice changes nothing."""
        column = step.rule.get("flag_column")
        if not column:
            raise ConnectorError("stop_processing needs flag_column in the pack rule", retryable=False)
        database = step.connector.get("database")
        if not database:
            raise ConnectorError("sql connector needs 'database' in the pack", retryable=False)
        pool = await self._pools.get(database)
        found = [False] * len(subjects)
        async with pool.acquire() as conn, conn.transaction():
            for spec in step.connector.get("tables", []):
                table = identifier(spec["table"])
                if column not in await _columns(conn, spec["table"]):
                    continue
                match: dict[str, str] = spec["match"]
                clauses, params, returned = [], [], []
                for identity, col in match.items():
                    values = [normalise_identity(identity, s[identity]) for s in subjects if identity in s]
                    if not values:
                        continue
                    params.append(values)
                    column_sql = f"lower({identifier(col)})" if identity == "email" else identifier(col)
                    clauses.append(f"{column_sql} = ANY(${len(params)}::text[])")
                    returned.append((identity, f"{column_sql} AS {identifier('m_' + identity)}"))
                if not clauses:
                    continue
                rows = await conn.fetch(
                    f"UPDATE {table} SET {identifier(column)} = true WHERE {' OR '.join(clauses)}"
                    f" RETURNING {', '.join(sql for _, sql in returned)}",
                    *params,
                )
                hits = {
                    (identity, normalise_identity(identity, str(row[f"m_{identity}"])))
                    for row in rows
                    for identity, _ in returned
                    if row[f"m_{identity}"] is not None
                }
                for index, subject in enumerate(subjects):
                    if any((i, normalise_identity(i, v)) in hits for i, v in subject.items()):
                        found[index] = True
        return found

    def _specs_with_filters(
        self, task: SystemTaskInput
    ) -> list[tuple[dict[str, Any], tuple[str, str, list[str]]]]:
        found = []
        for spec in task.step.connector.get("tables", []):
            condition, params = subject_filter(task.subject, spec["match"])
            if condition:
                found.append((spec, (identifier(spec["table"]), condition, params)))
        return found

    async def _set_flag(self, task: SystemTaskInput, column: str) -> dict[str, int]:
        pool = await self._pool(task)
        changed = {}
        async with pool.acquire() as conn, conn.transaction():
            for table, condition, params in self._tables(task):
                if column not in await _columns(conn, table.strip('"')):
                    continue
                status = await conn.execute(
                    f"UPDATE {table} SET {identifier(column)} = true WHERE {condition}", *params
                )
                changed[table.strip('"')] = int(status.split()[-1])
        return changed

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


async def _columns_of(pool: asyncpg.Pool, table: str) -> dict[str, bool]:
    async with pool.acquire() as conn:
        return await _columns(conn, table)


async def _columns(conn: asyncpg.Connection, table: str) -> dict[str, bool]:
    """Column name → nullable, for one table of the current database."""
    rows = await conn.fetch(
        "SELECT column_name, is_nullable FROM information_schema.columns WHERE table_name = $1",
        table,
    )
    return {r["column_name"]: r["is_nullable"] == "YES" for r in rows}
