"""Consent changes, their batches, per-subject evidence and the suppression list, in PostgreSQL.

No identities here: subjects appear only as pseudonymous ``subject_refs`` (see schemas/identity.py).
``suppressions`` holds, per (tenant, subject ref, purpose), the withdrawal in force; a later
``grant`` lifts it, an earlier one does not. Writes are bulk (one statement per table and
batch) and idempotent: a batch recorded twice changes nothing.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import asyncpg

EVENT_COLUMNS = ["event_id", "tenant", "batch_id", "subject_refs", "purposes", "action", "occurred_at"]


def _time(value: str) -> datetime:
    return datetime.fromisoformat(value)


class ConsentStore:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def keep_batch(
        self,
        batch_id: str,
        tenant: str,
        changes: int,
        key_id: str,
        sealed: bytes,
        entries: list[Any] | None = None,
    ) -> None:
        """The batch's changes, encrypted, before its workflow starts (the same batch twice: once);
        with ``entries``, each change and the suppression list too, in the same transaction."""
        async with self._pool.acquire() as conn, conn.transaction():
            await conn.execute(
                """
                INSERT INTO consent_batches (batch_id, tenant, changes, key_id, sealed)
                VALUES ($1, $2, $3, $4, $5)
                ON CONFLICT DO NOTHING
                """,
                batch_id,
                tenant,
                changes,
                key_id,
                sealed,
            )
            if entries is not None:
                await _record_changes(conn, tenant, batch_id, entries)

    async def sealed_batch(self, batch_id: str) -> tuple[str, bytes] | None:
        row = await self._pool.fetchrow(
            "SELECT key_id, sealed FROM consent_batches WHERE batch_id = $1", batch_id
        )
        return None if row is None else (row["key_id"], bytes(row["sealed"]))

    async def batch_tenant(self, batch_id: str) -> str | None:
        """The tenant of a known consent batch, or None."""
        tenant: str | None = await self._pool.fetchval(
            "SELECT tenant FROM consent_batches WHERE batch_id = $1", batch_id
        )
        return tenant

    async def is_batch(self, batch_id: str) -> bool:
        return bool(
            await self._pool.fetchval("SELECT true FROM consent_batches WHERE batch_id = $1", batch_id)
        )

    async def record_changes(self, tenant: str, batch_id: str, entries: list[Any]) -> None:
        """Keep every change and bring the suppression list up to date, in one transaction."""
        async with self._pool.acquire() as conn, conn.transaction():
            await _record_changes(conn, tenant, batch_id, entries)

    async def record_outcome(
        self, batch_id: str, system: str, outcome: str, at: str, event_ids: list[str],
        evidence: dict[str, Any], per_event: dict[str, str],
    ) -> int:  # fmt: skip
        """Per-subject evidence of one system's answer; the first answer per (event, system) stays.

        COPY first: thousands of rows a batch, and COPY writes them at a fraction of the cost of
        an INSERT ... ON CONFLICT (no speculative insertion per row). Evidence already there (a
        redelivered batch, a retried activity) makes COPY refuse the whole batch; then the
        insert that skips what exists, in place of the COPY rolled back."""
        when, document = _time(at), json.dumps(evidence)
        outcomes = [per_event.get(event_id, outcome) for event_id in event_ids]
        rows = [(e, system, batch_id, o, when, document) for e, o in zip(event_ids, outcomes, strict=True)]
        async with self._pool.acquire() as conn:
            try:
                async with conn.transaction():
                    status = await conn.copy_records_to_table(
                        "consent_evidence",
                        columns=["event_id", "system", "batch_id", "outcome", "confirmed_at", "evidence"],
                        records=rows,
                    )
            except asyncpg.UniqueViolationError:
                status = await conn.execute(
                    """
                    INSERT INTO consent_evidence (event_id, system, batch_id, outcome, confirmed_at, evidence)
                    SELECT e.event_id, $1, $2, e.outcome, $3, $4::jsonb
                      FROM unnest($5::text[], $6::text[]) AS e(event_id, outcome)
                    ON CONFLICT (event_id, system) DO NOTHING
                    """,
                    system,
                    batch_id,
                    when,
                    document,
                    event_ids,
                    outcomes,
                )
        return int(status.split()[-1])

    async def evidence(self, event_id: str) -> list[dict[str, Any]]:
        rows = await self._pool.fetch(
            """
            SELECT system, outcome, confirmed_at, batch_id FROM consent_evidence
             WHERE event_id = $1 ORDER BY system
            """,
            event_id,
        )
        return [
            {"system": r["system"], "outcome": r["outcome"], "confirmed_at": r["confirmed_at"].isoformat(),
             "batch_id": str(r["batch_id"])}
            for r in rows
        ]  # fmt: skip

    async def suppressed(
        self, tenant: str, refs: list[str], purposes: list[str] | None
    ) -> list[dict[str, Any]]:
        """The suppressions in force for any of ``refs`` (and, if given, related to ``purposes`` in
        the fideslang hierarchy: a withdrawn ``marketing`` suppresses ``marketing.communications.email``,
        and asking about ``marketing`` shows a withdrawn ``marketing.advertising``)."""
        rows = await self._pool.fetch(
            """
            SELECT purpose, min(since) AS since FROM suppressions
             WHERE tenant = $1 AND subject_ref = ANY($2::text[])
               AND ($3::text[] IS NULL OR EXISTS (
                    SELECT 1 FROM unnest($3::text[]) AS asked(p)
                     WHERE asked.p = purpose OR starts_with(asked.p, purpose || '.')
                        OR starts_with(purpose, asked.p || '.')))
             GROUP BY purpose ORDER BY purpose
            """,
            tenant,
            refs,
            purposes,
        )
        return [{"purpose": r["purpose"], "since": r["since"].isoformat()} for r in rows]


async def _record_changes(conn: asyncpg.Connection, tenant: str, batch_id: str, entries: list[Any]) -> None:
    """Each change (once per event id) and the suppressions: a withdrawal in force per (subject
    ref, purpose), the latest one winning; a later grant lifts it, an earlier one does not."""
    withdrawn: dict[tuple[str, str], tuple[datetime, str]] = {}
    granted: dict[tuple[str, str], datetime] = {}
    for entry in entries:
        at = _time(entry.occurred_at)
        for ref in entry.subject_refs:
            for purpose in entry.purposes:
                key = (ref, purpose)
                if entry.action == "withdraw":
                    if key not in withdrawn or withdrawn[key][0] < at:
                        withdrawn[key] = (at, entry.event_id)
                elif key not in granted or granted[key] < at:
                    granted[key] = at
    times = [_time(e.occurred_at) for e in entries]
    try:  # COPY, as for evidence (record_outcome): a change seen before makes it fall back
        async with conn.transaction():  # a savepoint: the COPY alone is undone
            await conn.copy_records_to_table(
                "consent_events",
                columns=[
                    "event_id",
                    "tenant",
                    "batch_id",
                    "subject_refs",
                    "purposes",
                    "action",
                    "occurred_at",
                ],
                records=[
                    (e.event_id, tenant, batch_id, e.subject_refs, e.purposes, e.action, at)
                    for e, at in zip(entries, times, strict=True)
                ],
            )
    except asyncpg.UniqueViolationError:
        await conn.execute(
            """
            INSERT INTO consent_events
                   (event_id, tenant, batch_id, subject_refs, purposes, action, occurred_at)
            SELECT e.event_id, $1, $2, string_to_array(e.refs, ','), string_to_array(e.purposes, ','),
                   e.action, e.occurred_at
              FROM unnest($3::text[], $4::text[], $5::text[], $6::text[], $7::timestamptz[])
                   AS e(event_id, refs, purposes, action, occurred_at)
            ON CONFLICT (event_id) DO NOTHING
            """,
            tenant,
            batch_id,
            [e.event_id for e in entries],
            [",".join(e.subject_refs) for e in entries],
            [",".join(e.purposes) for e in entries],
            [e.action for e in entries],
            times,
        )
    if withdrawn:
        await _suppress(conn, tenant, withdrawn)
    if granted:
        keys = list(granted)
        await conn.execute(
            """
            DELETE FROM suppressions s
             USING unnest($2::text[], $3::text[], $4::timestamptz[]) AS g(ref, purpose, at)
             WHERE s.tenant = $1 AND s.subject_ref = g.ref AND s.purpose = g.purpose
               AND s.since < g.at
            """,
            tenant,
            [k[0] for k in keys],
            [k[1] for k in keys],
            [granted[k] for k in keys],
        )


async def _suppress(
    conn: asyncpg.Connection, tenant: str, withdrawn: dict[tuple[str, str], tuple[datetime, str]]
) -> None:
    """A suppression per (subject ref, purpose) withdrawn, the latest withdrawal winning. COPY
    when every one is new (most are: people withdraw a purpose once); a subject suppressed
    before makes it fall back to the upsert that keeps the latest."""
    keys = list(withdrawn)
    try:
        async with conn.transaction():  # a savepoint: the COPY alone is undone
            await conn.copy_records_to_table(
                "suppressions",
                columns=["tenant", "subject_ref", "purpose", "since", "event_id"],
                records=[(tenant, ref, purpose, *withdrawn[ref, purpose]) for ref, purpose in keys],
            )
    except asyncpg.UniqueViolationError:
        await conn.execute(
            """
            INSERT INTO suppressions (tenant, subject_ref, purpose, since, event_id)
            SELECT $1, s.ref, s.purpose, s.since, s.event_id
              FROM unnest($2::text[], $3::text[], $4::timestamptz[], $5::text[])
                   AS s(ref, purpose, since, event_id)
            ON CONFLICT (tenant, subject_ref, purpose) DO UPDATE
               SET since = EXCLUDED.since, event_id = EXCLUDED.event_id
             WHERE suppressions.since < EXCLUDED.since
            """,
            tenant,
            [k[0] for k in keys],
            [k[1] for k in keys],
            [withdrawn[k][0] for k in keys],
            [withdrawn[k][1] for k in keys],
        )
