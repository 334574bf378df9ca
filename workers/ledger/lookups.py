"""Look-ups across requests: one subject's other requests (fees, duplicates, holds), lists, overdue.

Read-only queries over the ledger's tables, apart from the per-request writes in ``ledger``.
"""

from __future__ import annotations

from typing import Any

import asyncpg

from schemas.vocabulary import CLOSED_STATUSES
from workers.messages.requests import DuplicateQuery


class RequestLookups:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def previous_copies(self, request_id: str, tenant: str, subject_refs: list[str]) -> int:
        """Access requests of the same subject that were answered before this one (fee rule)."""
        value = await self._pool.fetchval(
            """
            SELECT count(*) FROM requests
             WHERE tenant = $1 AND type = 'access' AND status = 'completed'
               AND subject_refs && $2 AND request_id <> $3
            """,
            tenant,
            subject_refs,
            request_id,
        )
        return int(value)

    async def open_duplicate(self, query: DuplicateQuery) -> str | None:
        """The earliest other open, verified request of the subject with the same type and details."""
        value = await self._pool.fetchval(
            """
            SELECT request_id FROM requests
             WHERE tenant = $1 AND type = $2 AND subject_refs && $3 AND request_id <> $4
               AND details_digest = $5 AND status = 'in_progress' AND received_at <= (
                   SELECT received_at FROM requests WHERE request_id = $4)
             ORDER BY received_at LIMIT 1
            """,
            query.tenant,
            query.request_type,
            query.subject_refs,
            query.request_id,
            query.details_digest,
        )
        return str(value) if value else None

    async def open_requests_of_subject(self, tenant: str, subject_refs: list[str]) -> list[str]:
        """Workflow ids of the subject's requests still open (to tell them a hold was released)."""
        rows = await self._pool.fetch(
            """
            SELECT workflow_id FROM requests
             WHERE tenant = $1 AND subject_refs && $2 AND NOT (status = ANY($3::text[]))
            """,
            tenant,
            subject_refs,
            list(CLOSED_STATUSES),
        )
        return [r["workflow_id"] for r in rows]

    async def open_counts(self) -> list[dict[str, Any]]:
        """Open requests per (tenant, status), and how many of them are past due."""
        rows = await self._pool.fetch(
            """
            SELECT tenant, status, count(*) AS open,
                   count(*) FILTER (WHERE due_at < now() OR 'overdue' = ANY(flags)) AS overdue
              FROM requests WHERE closed_at IS NULL GROUP BY tenant, status ORDER BY tenant, status
            """
        )
        return [dict(r) for r in rows]

    async def overdue(self) -> list[dict[str, Any]]:
        """Open requests past their due date (flagged or not yet flagged)."""
        rows = await self._pool.fetch(
            f"""
            SELECT {SUMMARY_COLUMNS} FROM requests
             WHERE closed_at IS NULL AND (due_at < now() OR 'overdue' = ANY(flags)) ORDER BY due_at
            """
        )
        return [_summary(r) for r in rows]

    async def list_requests(self, *, status: str | None = None, limit: int = 50) -> list[dict[str, Any]]:
        rows = await self._pool.fetch(
            f"""
            SELECT {SUMMARY_COLUMNS} FROM requests
             WHERE ($1::text IS NULL OR status = $1) ORDER BY received_at DESC LIMIT $2
            """,
            status,
            limit,
        )
        return [_summary(r) for r in rows]


SUMMARY_COLUMNS = "request_id, tenant, type, status, flags, due_at, closed_at"


def _summary(row: asyncpg.Record) -> dict[str, Any]:
    """One line of a request listing (no personal data)."""
    return {
        "request_id": str(row["request_id"]),
        "tenant": row["tenant"],
        "type": row["type"],
        "status": row["status"],
        "flags": list(row["flags"]),
        "due_at": row["due_at"].isoformat(),
        "closed_at": row["closed_at"].isoformat() if row["closed_at"] else None,
    }
