"""Legal holds on a subject, placed and released by an operator; identity documents awaiting a check."""

from __future__ import annotations

import uuid

import asyncpg

from workers.messages.requests import LegalHold


class HoldStore:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

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

    async def keep_document(self, request_id: str, document: str) -> None:
        await self._pool.execute(
            "INSERT INTO identity_documents (request_id, document) VALUES ($1, $2) ON CONFLICT DO NOTHING",
            request_id,
            document,
        )

    async def discard_document(self, request_id: str) -> bool:
        status = await self._pool.execute("DELETE FROM identity_documents WHERE request_id = $1", request_id)
        return status != "DELETE 0"
