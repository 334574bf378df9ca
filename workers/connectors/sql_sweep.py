"""Retention sweeps over rows in PostgreSQL: one bounded batch of rows past their period.

A batch selects, in date order after a cursor (keyset: the date, then the row's ``ctid``), at
most ``batch_size`` rows whose ``counts_from`` date — in the table itself or in a related
table (``through``) — is before the cutoff, and only those matching the rule's ``where``.
Whose row it is comes from the table's ``match`` columns (the same ones a request searches
by): a row whose identities hash to a subject reference under a legal hold (active, or
released after the cutoff: the period then counts from the hold's end) is skipped. The rows
are locked (``FOR UPDATE SKIP LOCKED``) and acted on in one transaction. SQL is built only
from checked identifiers and bind parameters.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg

from workers.connectors.base import ConnectorError, HeldSubjects, identifier
from workers.messages.retention import RetentionRule, SweepResult


@dataclass
class SweepBatchRows:
    """The rows one batch examined: those to act on (by ``ctid``), how many were held, the cursor."""

    rows: list[asyncpg.Record]
    to_act: list[asyncpg.Record]
    held: int
    cursor: list[str] | None
    finished: bool


def table_match(rule: RetentionRule) -> dict[str, str]:
    """The identity → column map of the rule's table, as the system's connector lists it."""
    connector = rule.connector
    for spec in connector.get("tables", []):
        if spec["table"] == rule.table:
            match: dict[str, str] = spec.get("match", {})
            return match
    if connector.get("table") == rule.table:
        return dict(connector.get("match", {}))
    raise ConnectorError(
        f"retention rule {rule.name}: table {rule.table!r} is not in its system", retryable=False
    )


async def select_batch(
    conn: asyncpg.Connection,
    rule: RetentionRule,
    cutoff: datetime,
    cursor: list[str] | None,
    *,
    lock: bool,
    held: HeldSubjects,
    extra_columns: tuple[str, ...] = (),
) -> SweepBatchRows:
    """Select (and lock, unless counting) one batch of rows past their period."""
    if not rule.table:
        raise ConnectorError(f"retention rule {rule.name} names no table", retryable=False)
    match = table_match(rule)
    through = rule.counts_from.get("through")
    date = f"{'p' if through else 't'}.{identifier(rule.counts_from['column'])}"
    stamp = f"({date})::timestamptz"
    selected = ["t.ctid::text AS row_ref", f"{stamp} AS counted_from"]
    selected += [
        f"t.{identifier(column)}::text AS {identifier('m_' + kind)}" for kind, column in match.items()
    ]
    selected += [f"t.{identifier(column)} AS {identifier('x_' + column)}" for column in extra_columns]
    source = f"{identifier(rule.table)} t"
    if through:
        on = identifier(through["on"])
        source += f" JOIN {identifier(through['table'])} p ON p.{on} = t.{on}"
    params: list[Any] = [cutoff]
    conditions = [f"{stamp} < $1"]
    for column, values in sorted(rule.where.items()):
        params.append(list(values))
        conditions.append(f"t.{identifier(column)}::text = ANY(${len(params)}::text[])")
    if cursor:
        params += [datetime.fromisoformat(cursor[0]), cursor[1]]
        conditions.append(f"({stamp}, t.ctid) > (${len(params) - 1}::timestamptz, ${len(params)}::text::tid)")
    if rule.action == "anonymise":
        # A row already anonymised is not swept again.
        pending = [
            f"(t.{identifier(c)} IS NOT NULL AND t.{identifier(c)}::text <> 'anonymised')"
            for c in rule.anonymise_columns
        ]
        conditions.append("(" + " OR ".join(pending) + ")")
    query = (
        f"SELECT {', '.join(selected)} FROM {source} WHERE {' AND '.join(conditions)}"
        f" ORDER BY {stamp}, t.ctid LIMIT {int(rule.batch_size)}"
    )
    if lock:
        query += " FOR UPDATE OF t SKIP LOCKED"
    rows = await conn.fetch(query, *params)
    to_act = [row for row in rows if not _held(row, match, held)]
    last = rows[-1] if rows else None
    return SweepBatchRows(
        rows=list(rows),
        to_act=to_act,
        held=len(rows) - len(to_act),
        cursor=[last["counted_from"].isoformat(), last["row_ref"]] if last else cursor,
        finished=len(rows) < rule.batch_size,
    )


def _held(row: asyncpg.Record, match: dict[str, str], held: HeldSubjects) -> bool:
    """Whether the row belongs to a subject under a legal hold (by pseudonymous reference)."""
    return held.holds({kind: row[f"m_{kind}"] for kind in match if row[f"m_{kind}"]})


async def sweep_sql(
    pool: asyncpg.Pool, rule: RetentionRule, cutoff: datetime, cursor: list[str] | None,
    dry_run: bool, held: HeldSubjects,
) -> SweepResult:  # fmt: skip
    """One batch of an SQL table: delete the rows, or overwrite the rule's columns."""
    async with pool.acquire() as conn, conn.transaction():
        batch = await select_batch(conn, rule, cutoff, cursor, lock=not dry_run, held=held)
        refs = [row["row_ref"] for row in batch.to_act]
        acted = len(refs)
        if refs and not dry_run:
            target = identifier(rule.table or "")
            if rule.action == "erase":
                status = await conn.execute(f"DELETE FROM {target} WHERE ctid = ANY($1::text[]::tid[])", refs)
            else:
                assignments = await _anonymised(conn, rule)
                status = await conn.execute(
                    f"UPDATE {target} SET {assignments} WHERE ctid = ANY($1::text[]::tid[])", refs
                )
            acted = int(status.split()[-1])
    return SweepResult(len(batch.rows), acted, batch.held, batch.cursor, batch.finished)


async def _anonymised(conn: asyncpg.Connection, rule: RetentionRule) -> str:
    """The SET list of an anonymisation: NULL where the column allows it, a marker otherwise."""
    rows = await conn.fetch(
        "SELECT column_name, is_nullable FROM information_schema.columns WHERE table_name = $1", rule.table
    )
    nullable = {r["column_name"]: r["is_nullable"] == "YES" for r in rows}
    missing = [c for c in rule.anonymise_columns if c not in nullable]
    if missing:
        raise ConnectorError(
            f"retention rule {rule.name}: {rule.table} has no column {missing}", retryable=False
        )
    return ", ".join(
        f"{identifier(c)} = " + ("NULL" if nullable[c] else "'anonymised'") for c in rule.anonymise_columns
    )
