"""SQL connector: a system whose data lives in PostgreSQL tables named by the policy pack.

Pack shape: ``{"kind": "sql", "database": ..., "tables": [{"table": ..., "match":
{identity: column}, "references": [{"column": ..., "to": "table.column"}],
"third_party_columns": [...], "counterparty": {"match": ..., "third_party_columns": ...}}],
"restrict_column": ...}``. Tables with ``match`` are searched by identity; the others are
reached through the database's foreign keys or the pack's ``references``
(``workers.connectors.sql_rows``). Every change to one database is one transaction, children
before parents.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

import asyncpg

from schemas.identity import normalise_identity
from schemas.periods import add_iso_period
from schemas.relations import TableGraph
from workers.connectors.base import (
    BatchResult,
    BatchSubject,
    Connector,
    ConnectorError,
    ConnectorResult,
    HeldSubjects,
    identifier,
    json_ready,
)
from workers.connectors.pools import DatabasePools
from workers.connectors.sql_identities import identities_disagree, linked_identities
from workers.connectors.sql_keep import Kept, kept_rows
from workers.connectors.sql_rows import Selection, in_deletion_order, redacted, select_rows
from workers.connectors.sql_schema import DatabaseSchema, SchemaCache
from workers.connectors.sql_sweep import sweep_sql
from workers.messages.requests import SystemStep, SystemTaskInput
from workers.messages.retention import RetentionRule, SweepResult


class SqlConnector(Connector):
    sweeps = True

    def __init__(self, pools: DatabasePools) -> None:
        self._pools = pools
        self._schemas = SchemaCache()

    async def sweep(
        self, rule: RetentionRule, cutoff: datetime, cursor: list[str] | None, dry_run: bool,
        held: HeldSubjects,
    ) -> SweepResult:  # fmt: skip
        """A retention rule's batch (``sql_sweep``): rows past their period, held subjects skipped."""
        database = rule.connector.get("database")
        if not database:
            raise ConnectorError("sql connector needs 'database' in the pack", retryable=False)
        return await sweep_sql(await self._pools.get(database), rule, cutoff, cursor, dry_run, held)

    async def _database(self, task: SystemTaskInput) -> tuple[asyncpg.Pool, DatabaseSchema, TableGraph]:
        """The system's pool, its schema and its tables' relation graph (checked on first sight)."""
        database = task.step.connector.get("database")
        if not database:
            raise ConnectorError("sql connector needs 'database' in the pack", retryable=False)
        pool = await self._pools.get(database)
        graph = await self._schemas.graph(database, pool, _tables(task.step))
        return pool, await self._schemas.schema(database, pool), graph

    async def _selected(
        self,
        conn: asyncpg.Connection,
        task: SystemTaskInput,
        graph: TableGraph,
        *,
        lock: bool = False,
        counterparties: bool = True,
    ) -> tuple[list[Selection], Kept]:
        """The subject's rows of every table, and those the rule keeps (e.g. tied to an open claim)."""
        selections = await select_rows(
            conn, graph, _tables(task.step), task.identities(), counterparties=counterparties, lock=lock
        )
        kept = await kept_rows(self._pools, conn, task.step.rule, selections)
        return kept.apply(selections), kept

    async def locate(self, task: SystemTaskInput) -> int:
        """Every row of the subject the step's action would act on, related rows included;
        rows the rule keeps (tied to something kept) are not counted."""
        pool, _, graph = await self._database(task)
        async with pool.acquire() as conn:
            selections, _ = await self._selected(conn, task, graph)
            if not selections:
                return 0
            # One round trip for every table's count.
            counts: list[str] = []
            params: list[Any] = []
            for s in selections:
                counts.append(f"(SELECT count(*) FROM {s.table} WHERE {s.shifted(len(params))})")
                params.extend(s.params)
            return int(await conn.fetchval("SELECT " + " + ".join(counts), *params))

    async def remaining(self, task: SystemTaskInput) -> int:
        """After anonymisation a row is no longer the subject's once the columns the rule anonymises
        no longer name them: only those of each table's ``match`` columns are searched again (a
        parcel's sender id is not the recipient's identity). Erasure: every identifier."""
        if task.step.action != "anonymise":
            return await self.locate(task)
        anonymised = set(task.step.rule.get("anonymise_columns", []))
        tables = []
        for spec in task.step.connector.get("tables", []):
            searched = spec.get("match") or {}
            match = {kind: column for kind, column in searched.items() if column in anonymised}
            if match:
                tables.append({**spec, "match": match})
        connector = {**task.step.connector, "tables": tables}
        return await self.locate(replace(task, step=replace(task.step, connector=connector)))

    async def export(self, task: SystemTaskInput) -> ConnectorResult:
        """The subject's rows, related rows included; only the rule's ``columns`` when it names
        them (portability); another person's columns withheld (GDPR Art. 15(4), 20(4))."""
        pool, schema, graph = await self._database(task)
        records: list[dict[str, Any]] = []
        counts: dict[str, int] = {}
        wanted = task.step.rule.get("columns")
        async with pool.acquire() as conn:
            selections = await select_rows(conn, graph, _tables(task.step), task.identities())
            for s in selections:
                if wanted:
                    present = [c for c in wanted if c in schema.columns.get(s.name, {})]
                    if not present:
                        continue
                    selected = ", ".join(identifier(c) for c in present)
                else:
                    selected = "*"
                rows = await conn.fetch(f"SELECT {selected} FROM {s.table} WHERE {s.condition}", *s.params)
                counts[s.name] = counts.get(s.name, 0) + len(rows)
                records.extend(redacted({"table": s.name, **json_ready(dict(r))}, s.withheld) for r in rows)
        outcome = "exported" if records else "not_found"
        return ConnectorResult(outcome, evidence={"records_by_table": counts}, records=records)

    async def erase(self, task: SystemTaskInput) -> ConnectorResult:
        """Delete the subject's rows, children before parents, in one transaction; in rows where
        the subject is only a counterparty, clear the subject's part and leave the other's."""
        pool, schema, graph = await self._database(task)
        deleted: dict[str, int] = {}
        cleared: dict[str, int] = {}
        async with pool.acquire() as conn, conn.transaction():
            selections, kept = await self._selected(conn, task, graph, lock=True)
            for s in in_deletion_order(graph, selections):
                if s.counterparty:
                    cleared[s.name] = await _clear(conn, s, s.subject_columns, schema)
                    continue
                status = await _execute(conn, f"DELETE FROM {s.table} WHERE {s.condition}", s.params)
                deleted[s.name] = deleted.get(s.name, 0) + _count(status)
            restricted = await kept.restrict(conn, task.step, schema)
        evidence: dict[str, Any] = {"deleted_by_table": deleted}
        if any(cleared.values()):
            evidence["counterparty_part_cleared_by_table"] = cleared
        done = "erased" if any(deleted.values()) or any(cleared.values()) else "not_found"
        return kept.result(done, evidence, restricted, task.submitted_at)

    async def anonymise(self, task: SystemTaskInput) -> ConnectorResult:
        """Overwrite the rule's columns (NULL where allowed, a fixed marker otherwise) in the
        subject's rows; in counterparty rows only the subject's part."""
        pool, schema, graph = await self._database(task)
        wanted = list(task.step.rule.get("anonymise_columns", []))
        changed: dict[str, int] = {}
        async with pool.acquire() as conn, conn.transaction():
            selections, kept = await self._selected(conn, task, graph, lock=True)
            for s in in_deletion_order(graph, selections):
                count = await _clear(conn, s, s.subject_columns if s.counterparty else wanted, schema)
                changed[s.name] = changed.get(s.name, 0) + count
            restricted = await kept.restrict(conn, task.step, schema)
        evidence = {"anonymised_by_table": changed, "columns": sorted(wanted)}
        return kept.result("anonymised" if any(changed.values()) else "not_found", evidence, restricted,
                           task.submitted_at)  # fmt: skip

    async def linked_identities(self, task: SystemTaskInput) -> dict[str, list[str]]:
        """Identity resolution: the identifiers the subject's rows hold (``sql_identities``)."""
        return await linked_identities((await self._database(task))[0], task)

    async def identities_disagree(self, task: SystemTaskInput) -> str | None:
        """The automatic identity check (``sql_identities``)."""
        return await identities_disagree((await self._database(task))[0], task)

    async def rectify(self, task: SystemTaskInput) -> ConnectorResult:
        """Apply ``details.corrections`` ({field: value}) through each table's field map, in the
        subject's own rows (never in another person's row where the subject is a counterparty)."""
        corrections: dict[str, Any] = task.details.get("corrections") or {}
        if not corrections:
            raise ConnectorError("a rectification needs details.corrections", retryable=False)
        pool, _, graph = await self._database(task)
        updated: dict[str, list[str]] = {}
        async with pool.acquire() as conn, conn.transaction():
            found = await select_rows(
                conn, graph, _tables(task.step), task.identities(), counterparties=False
            )
            for s in found:
                fields = {f: c for f, c in s.spec.get("fields", {}).items() if f in corrections}
                if not fields:
                    continue
                values = [corrections[f] for f in fields]
                offset = len(s.params)
                assignments = [
                    f"{identifier(column)} = ${offset + i + 1}" for i, column in enumerate(fields.values())
                ]
                status = await _execute(
                    conn,
                    f"UPDATE {s.table} SET {', '.join(assignments)} WHERE {s.condition}",
                    [*s.params, *values],
                )
                if _count(status):
                    updated[s.name] = sorted(fields)
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
        """Flag many subjects' rows in one statement per table searched by identity (consent
        batches): for each subject, whether any of its rows was found. Setting a flag twice
        changes nothing."""
        column = step.rule.get("flag_column")
        if not column:
            raise ConnectorError("stop_processing needs flag_column in the pack rule", retryable=False)
        database = step.connector.get("database")
        if not database:
            raise ConnectorError("sql connector needs 'database' in the pack", retryable=False)
        pool = await self._pools.get(database)
        schema = await self._schemas.schema(database, pool)
        found = [False] * len(subjects)
        async with pool.acquire() as conn, conn.transaction():
            for spec in _tables(step):
                table = identifier(spec["table"])
                match: dict[str, str] = spec.get("match") or {}
                if not match or column not in schema.columns.get(spec["table"], {}):
                    continue
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

    async def _set_flag(self, task: SystemTaskInput, column: str) -> dict[str, int]:
        """Set a flag column on the subject's own rows (related rows included) where the table has it."""
        pool, schema, graph = await self._database(task)
        changed = {}
        async with pool.acquire() as conn, conn.transaction():
            found = await select_rows(
                conn, graph, _tables(task.step), task.identities(), counterparties=False
            )
            for s in found:
                if column not in schema.columns.get(s.name, {}):
                    continue
                status = await _execute(
                    conn, f"UPDATE {s.table} SET {identifier(column)} = true WHERE {s.condition}", s.params
                )
                changed[s.name] = _count(status)
        return changed

    async def retain(self, task: SystemTaskInput) -> ConnectorResult:
        """Keep what the legal basis requires, clear the rest, and restrict the rows."""
        pool, schema, graph = await self._database(task)
        rule = task.step.rule
        clear = set(rule.get("clear_columns", []))
        restrict_column = task.step.connector.get("restrict_column")
        kept = {}
        async with pool.acquire() as conn, conn.transaction():
            for s in await select_rows(
                conn, graph, _tables(task.step), task.identities(), counterparties=False, lock=True
            ):
                columns = schema.columns.get(s.name, {})
                assignments = [f"{identifier(n)} = NULL" for n in columns if n in clear and columns[n]]
                if restrict_column and restrict_column in columns:
                    assignments.append(f"{identifier(restrict_column)} = true")
                if assignments:
                    status = await _execute(
                        conn, f"UPDATE {s.table} SET {', '.join(assignments)} WHERE {s.condition}", s.params
                    )
                else:
                    status = "SELECT " + str(
                        await conn.fetchval(f"SELECT count(*) FROM {s.table} WHERE {s.condition}", *s.params)
                    )
                kept[s.name] = _count(status)
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


def _tables(step: SystemStep) -> list[dict[str, Any]]:
    tables: list[dict[str, Any]] = step.connector.get("tables", [])
    return tables


async def _clear(conn: asyncpg.Connection, s: Selection, wanted: list[str], schema: DatabaseSchema) -> int:
    """Overwrite ``wanted`` columns of the selected rows: NULL where allowed, a marker otherwise."""
    columns = schema.columns.get(s.name, {})
    assignments = [
        f"{identifier(name)} = " + ("NULL" if columns[name] else "'anonymised'")
        for name in wanted
        if name in columns
    ]
    if not assignments:
        return 0
    return _count(
        await _execute(conn, f"UPDATE {s.table} SET {', '.join(assignments)} WHERE {s.condition}", s.params)
    )


async def _execute(conn: asyncpg.Connection, statement: str, params: list[Any]) -> str:
    """Run one change; a foreign key the pack does not list is a pack error, not a retry."""
    try:
        return str(await conn.execute(statement, *params))
    except asyncpg.ForeignKeyViolationError as exc:
        raise ConnectorError(
            f"policy pack error: {exc.table_name or 'a table'} still references the subject's rows through "
            f"{exc.constraint_name or 'a foreign key'}; list that table so the relation reaches it",
            retryable=False,
        ) from None


def _count(status: str) -> int:
    return int(status.split()[-1])
