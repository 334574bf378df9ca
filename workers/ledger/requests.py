"""The request ledger in PostgreSQL: requests, each system's outcome, reports — the evidence.

Every write is keyed by request_id or (request_id, system) and safe to repeat: Kafka
re-delivers, activities retry, partners call back twice. A final outcome is never
overwritten by a later, different one. ``Ledger.connect`` brings every store's tables up to
date by the numbered migrations in ``migrations/`` (``workers.ledger.migrate``).
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import asyncpg

from schemas.vocabulary import CLOSED_STATUSES, FINAL_OUTCOMES
from workers.ledger.audit import AuditLog
from workers.ledger.consent import ConsentStore
from workers.ledger.copies import CopyStore, Sealer, StoredReport
from workers.ledger.directives import DirectiveStore
from workers.ledger.drp import DrpStore
from workers.ledger.holds import HoldStore
from workers.ledger.identities import IdentityStore
from workers.ledger.lookups import RequestLookups
from workers.ledger.migrate import migrate
from workers.ledger.partners import PartnerStore
from workers.ledger.retention_runs import RetentionRunStore
from workers.messages.requests import RequestStatusChange, SystemResult

_FINAL = list(FINAL_OUTCOMES)


def _ts(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


async def keep_session(connection: asyncpg.Connection) -> None:
    """A connection back in the pool is not reset: asyncpg's default (advisory unlock, CLOSE ALL,
    UNLISTEN, RESET ALL) is one more round trip on every release, for session state no store
    sets (the migration's advisory lock is released by the migration). An open transaction is
    still rolled back by the pool itself."""


# A pooled connection idle this long is closed (the pool keeps its floor, ``min_size``): each
# PostgreSQL backend holds 2-4 MB, and a service whose requests wait weeks on partners has no
# use for the ten a burst opened. Under load a connection is back in use within milliseconds.
# Bench (e), 10,000 open: PostgreSQL 3.6 -> 0.4-0.6 kB per request (asyncpg's default: 300 s).
POOL_IDLE_SECONDS = 10.0


class Ledger:
    """Reads and idempotent writes of the evidence tables."""

    def __init__(
        self, pool: asyncpg.Pool, audit_key: bytes | None = None, sealer: Sealer | None = None
    ) -> None:
        self._pool = pool
        self._audit_key = audit_key  # only processes that write or verify the audit log hold it
        # Seals the personal copies (reports, records, identity documents); a ledger opened
        # without one can still read and write all the evidence, just not those copies.
        self._sealer = sealer

    @classmethod
    async def connect(
        cls,
        dsn: str,
        *,
        min_size: int = 1,
        max_size: int = 10,
        idle_seconds: float = POOL_IDLE_SECONDS,
        audit_key: bytes | None = None,
        sealer: Sealer | None = None,
    ) -> Ledger:
        pool = await asyncpg.create_pool(
            dsn,
            min_size=min_size,
            max_size=max_size,
            max_inactive_connection_lifetime=idle_seconds,
            reset=keep_session,
        )
        ledger = cls(pool, audit_key, sealer)
        await ledger.ensure_schema()
        return ledger

    async def close(self) -> None:
        await self._pool.close()

    @property
    def holds(self) -> HoldStore:
        return HoldStore(self._pool, self.copies)

    @property
    def copies(self) -> CopyStore:
        return CopyStore(self._pool, self._sealer)

    @property
    def retention_runs(self) -> RetentionRunStore:
        return RetentionRunStore(self._pool)

    @property
    def audit(self) -> AuditLog:
        return AuditLog(self._pool, self._audit_key)

    @property
    def lookups(self) -> RequestLookups:
        return RequestLookups(self._pool)

    @property
    def directives(self) -> DirectiveStore:
        return DirectiveStore(self._pool)

    @property
    def partners(self) -> PartnerStore:
        return PartnerStore(self._pool)

    @property
    def consent(self) -> ConsentStore:
        return ConsentStore(self._pool)

    @property
    def drp(self) -> DrpStore:
        return DrpStore(self._pool)

    @property
    def identities(self) -> IdentityStore:
        return IdentityStore(self._pool)

    async def ensure_schema(self) -> list[str]:
        """Apply the migrations this ledger lacks (workers/ledger/migrate.py); returns their names."""
        return await migrate(self._pool)

    async def record_request(
        self,
        *,
        request_id: str,
        tenant: str,
        request_type: str,
        jurisdiction: str,
        submitted_at: datetime,
        due_at: datetime,
        deadline_basis: str,
        workflow_id: str,
        subject_refs: list[str] | None = None,
        details_digest: str = "",
    ) -> bool:
        """Insert the request once; True when this call created it."""
        row = await self._pool.fetchrow(
            """
            INSERT INTO requests (request_id, tenant, type, jurisdiction, status, submitted_at,
                                  due_at, deadline_basis, workflow_id, subject_refs, details_digest)
            VALUES ($1, $2, $3, $4, 'received', $5, $6, $7, $8, $9, $10)
            ON CONFLICT (request_id) DO NOTHING
            RETURNING request_id
            """,
            request_id,
            tenant,
            request_type,
            jurisdiction,
            submitted_at,
            due_at,
            deadline_basis,
            workflow_id,
            subject_refs or [],
            details_digest,
        )
        return row is not None

    async def set_status(self, change: RequestStatusChange) -> None:
        """Move the request to ``change.status``; a terminal status is never left again."""
        await self._pool.execute(
            """
            UPDATE requests
               SET status = $2, flags = $3, reason = $4, updated_at = now(),
                   due_at = COALESCE($6::timestamptz, due_at),
                   closed_at = CASE WHEN $2 = ANY($5::text[]) THEN COALESCE(closed_at, now())
                                    ELSE closed_at END
             WHERE request_id = $1 AND NOT (status = ANY($5::text[]) AND status <> $2)
            """,
            change.request_id,
            change.status,
            change.flags,
            change.reason,
            list(CLOSED_STATUSES),
            _ts(change.due_at),
        )

    async def start_system_action(
        self, request_id: str, system: str, action: str, citation: str | None
    ) -> asyncpg.Record:
        """Count an attempt at (request, system); returns the row as it stands now."""
        row = await self._pool.fetchrow(
            """
            INSERT INTO request_systems (request_id, system, action, citation, attempts, started_at)
            VALUES ($1, $2, $3, $4, 1, now())
            ON CONFLICT (request_id, system) DO UPDATE
               SET attempts = request_systems.attempts + 1
            RETURNING outcome, attempts, located, evidence, confirmed_at, legal_basis,
                      retained_until, error, action
            """,
            request_id,
            system,
            action,
            citation,
        )
        assert row is not None
        return row

    async def note_located(self, request_id: str, system: str, located: int) -> int:
        """Remember how many records the first attempt found; returns the remembered count."""
        value = await self._pool.fetchval(
            """
            UPDATE request_systems SET located = COALESCE(located, $3)
             WHERE request_id = $1 AND system = $2
            RETURNING located
            """,
            request_id,
            system,
            located,
        )
        return int(value if value is not None else located)

    async def note_verification(
        self, request_id: str, system: str, verification: dict[str, Any], error: str | None = None
    ) -> None:
        """Keep the latest check of what remains of the subject in the system (and, when something
        does, why the system is still open), whatever the outcome stored."""
        await self._pool.execute(
            """
            UPDATE request_systems SET verification = $3::jsonb, error = COALESCE($4, error)
             WHERE request_id = $1 AND system = $2
            """,
            request_id,
            system,
            json.dumps(verification),
            error,
        )

    async def record_outcome(self, request_id: str, result: SystemResult) -> SystemResult:
        """Store a system's outcome unless a final one is already there; returns what is stored."""
        row = await self._pool.fetchrow(
            """
            INSERT INTO request_systems (request_id, system, action, outcome, confirmed_at,
                                         legal_basis, retained_until, error, evidence)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9::jsonb)
            ON CONFLICT (request_id, system) DO UPDATE
               SET outcome = EXCLUDED.outcome, confirmed_at = EXCLUDED.confirmed_at,
                   legal_basis = EXCLUDED.legal_basis, retained_until = EXCLUDED.retained_until,
                   error = EXCLUDED.error, evidence = EXCLUDED.evidence
             WHERE NOT (request_systems.outcome = ANY($10::text[]))
            RETURNING outcome
            """,
            request_id,
            result.system,
            result.action,
            result.outcome,
            _ts(result.confirmed_at),
            result.legal_basis,
            _ts(result.retained_until),
            result.error,
            json.dumps(result.evidence),
            _FINAL,
        )
        if row is not None:
            return result
        stored = await self.system_result(request_id, result.system)
        return stored or result

    async def seconds_to_confirm(self, request_id: str, system: str) -> float | None:
        """From the system's first attempt to its final answer, once both are known."""
        value = await self._pool.fetchval(
            """
            SELECT EXTRACT(EPOCH FROM confirmed_at - started_at) FROM request_systems
             WHERE request_id = $1 AND system = $2 AND confirmed_at IS NOT NULL AND started_at IS NOT NULL
            """,
            request_id,
            system,
        )
        return None if value is None else max(float(value), 0.0)

    async def end_retention(self, request_id: str, system: str, evidence: dict[str, Any]) -> None:
        """What was ``retained`` for a while is now ``erased``: the one change a final outcome allows."""
        await self._pool.execute(
            """
            UPDATE request_systems
               SET outcome = 'erased', confirmed_at = now(), evidence = evidence || $3::jsonb
             WHERE request_id = $1 AND system = $2 AND outcome = 'retained'
            """,
            request_id,
            system,
            json.dumps(evidence),
        )

    async def store_records(self, request_id: str, system: str, records: list[dict[str, Any]]) -> None:
        """Keep the records found for an access or portability request, sealed (first answer wins)."""
        await self.copies.store_records(request_id, system, records)

    async def system_result(self, request_id: str, system: str) -> SystemResult | None:
        row = await self._pool.fetchrow(
            "SELECT * FROM request_systems WHERE request_id = $1 AND system = $2", request_id, system
        )
        return _result_from_row(row) if row else None

    async def has_request(self, request_id: str) -> bool:
        return bool(await self._pool.fetchval("SELECT 1 FROM requests WHERE request_id = $1", request_id))

    async def request(self, request_id: str) -> dict[str, Any] | None:
        """The request and every system's part in it, as the API shows it."""
        row = await self._pool.fetchrow("SELECT * FROM requests WHERE request_id = $1", request_id)
        if row is None:
            return None
        systems = await self._pool.fetch(
            "SELECT * FROM request_systems WHERE request_id = $1 ORDER BY system", request_id
        )
        return {
            "request_id": str(row["request_id"]),
            "tenant": row["tenant"],
            "type": row["type"],
            "jurisdiction": row["jurisdiction"],
            "status": row["status"],
            "flags": list(row["flags"]),
            "submitted_at": row["submitted_at"].isoformat(),
            "received_at": row["received_at"].isoformat(),
            "due_at": row["due_at"].isoformat(),
            "deadline_basis": row["deadline_basis"],
            "closed_at": row["closed_at"].isoformat() if row["closed_at"] else None,
            "reason": row["reason"],
            "identifiers": await self.identities.summary(request_id),
            "systems": [_system_view(s) for s in systems],
        }

    async def system_records(self, request_id: str) -> dict[str, list[dict[str, Any]]]:
        return await self.copies.system_records(request_id)

    async def save_report(self, request_id: str, report: dict[str, Any], html: str) -> None:
        await self.copies.save_report(request_id, report, html)

    async def report(self, request_id: str) -> tuple[dict[str, Any], str] | None:
        """The report and its HTML, opened; None when there is none (or no longer: purged)."""
        stored = await self.stored_report(request_id)
        if stored is None or stored.report is None:
            return None
        return stored.report, stored.html or ""

    async def stored_report(self, request_id: str) -> StoredReport | None:
        """The report, or its tombstone (when and why it was purged)."""
        return await self.copies.stored_report(request_id)


def _result_from_row(row: asyncpg.Record) -> SystemResult:
    return SystemResult(
        system=row["system"],
        action=row["action"],
        outcome=row["outcome"],
        confirmed_at=row["confirmed_at"].isoformat() if row["confirmed_at"] else None,
        evidence=json.loads(row["evidence"]) if isinstance(row["evidence"], str) else dict(row["evidence"]),
        legal_basis=row["legal_basis"],
        retained_until=row["retained_until"].isoformat() if row["retained_until"] else None,
        error=row["error"],
    )


def _system_view(row: asyncpg.Record) -> dict[str, Any]:
    result = _result_from_row(row)
    return {
        "system": result.system,
        "action": result.action,
        "outcome": result.outcome,
        "confirmed_at": result.confirmed_at,
        "legal_basis": result.legal_basis,
        "retained_until": result.retained_until,
        "error": result.error,
        "citation": row["citation"],
        "attempts": row["attempts"],
        "located": row["located"],
        "verification": _verification(row, result),
        "evidence": result.evidence,
    }


def _verification(row: asyncpg.Record, result: SystemResult) -> dict[str, Any] | None:
    """The system's latest check of what remains of the subject (ours, or the system's own)."""
    stored = row["verification"]
    if stored is not None:
        return dict(json.loads(stored) if isinstance(stored, str) else stored)
    given = result.evidence.get("verification")
    return dict(given) if isinstance(given, dict) else None
