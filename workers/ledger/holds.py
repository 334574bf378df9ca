"""Legal holds on a subject, placed and released by an operator; identity documents awaiting a check
(kept sealed: ``workers.ledger.copies``)."""

from __future__ import annotations

import uuid
from datetime import datetime

import asyncpg

from workers.ledger.copies import CopyStore
from workers.messages.requests import LegalHold


class HoldStore:
    def __init__(self, pool: asyncpg.Pool, copies: CopyStore) -> None:
        self._pool = pool
        self._copies = copies

    async def place(self, tenant: str, subject_refs: list[str], reason: str, actor: str) -> str:
        hold_id = str(uuid.uuid4())
        await self._pool.execute(
            """
            INSERT INTO legal_holds (hold_id, tenant, subject_refs, reason, placed_by)
            VALUES ($1, $2, $3, $4, $5)
            """,
            hold_id,
            tenant,
            subject_refs,
            reason,
            actor,
        )
        return hold_id

    async def release(self, hold_id: str, actor: str, reason: str) -> asyncpg.Record | None:
        """Release once; returns the hold (tenant, subject_refs) or None if unknown/already released."""
        return await self._pool.fetchrow(
            """
            UPDATE legal_holds SET released_by = $2, released_at = now(), release_reason = $3
             WHERE hold_id = $1 AND released_at IS NULL
            RETURNING tenant, subject_refs
            """,
            hold_id,
            actor,
            reason,
        )

    async def active(self, tenant: str, subject_refs: list[str]) -> list[LegalHold]:
        rows = await self._pool.fetch(
            """
            SELECT hold_id, reason, placed_by, placed_at FROM legal_holds
             WHERE tenant = $1 AND subject_refs && $2 AND released_at IS NULL ORDER BY placed_at
            """,
            tenant,
            subject_refs,
        )
        return [
            LegalHold(str(r["hold_id"]), r["reason"], r["placed_by"], r["placed_at"].isoformat())
            for r in rows
        ]

    async def refs_held_since(self, tenant: str, since: datetime) -> frozenset[str]:
        """Subject references under a hold that is active or was released after ``since``: a
        retention period counts from the end of a legal hold, so their data is not swept yet."""
        rows = await self._pool.fetch(
            """
            SELECT DISTINCT unnest(subject_refs) AS ref FROM legal_holds
             WHERE tenant = $1 AND (released_at IS NULL OR released_at > $2)
            """,
            tenant,
            since,
        )
        return frozenset(r["ref"] for r in rows)

    async def keep_document(self, request_id: str, document: str) -> None:
        """Keep an identity document, sealed, until the verification decision."""
        await self._copies.keep_document(request_id, document)

    async def discard_document(self, request_id: str) -> bool:
        status = await self._pool.execute("DELETE FROM identity_documents WHERE request_id = $1", request_id)
        return status != "DELETE 0"
