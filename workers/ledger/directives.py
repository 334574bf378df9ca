"""Post-mortem directives (French law, Art. 85 loi Informatique et Libertés): what a subject
wants done with their data after death, acted on when the death is notified."""

from __future__ import annotations

import json
import uuid
from typing import Any

import asyncpg


class DirectiveStore:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def record(
        self,
        tenant: str,
        refs: list[str],
        subject: dict[str, str],
        request_type: str,
        beneficiary: str,
        actor: str,
    ) -> str:
        directive_id = str(uuid.uuid4())
        await self._pool.execute(
            """
            INSERT INTO post_mortem_directives
                (directive_id, tenant, subject_refs, subject, request_type, beneficiary, recorded_by)
            VALUES ($1, $2, $3, $4::jsonb, $5, $6, $7)
            """,
            directive_id,
            tenant,
            refs,
            json.dumps(subject),
            request_type,
            beneficiary,
            actor,
        )
        return directive_id

    async def for_subject(self, tenant: str, refs: list[str]) -> list[dict[str, Any]]:
        rows = await self._pool.fetch(
            """
            SELECT directive_id, subject, request_type, beneficiary, executed_at, request_id
              FROM post_mortem_directives WHERE tenant = $1 AND subject_refs && $2 ORDER BY recorded_at
            """,
            tenant,
            refs,
        )
        return [
            {
                "directive_id": str(r["directive_id"]),
                "subject": json.loads(r["subject"]),
                "request_type": r["request_type"],
                "beneficiary": r["beneficiary"],
                "executed": r["executed_at"] is not None,
                "request_id": str(r["request_id"]) if r["request_id"] else None,
            }
            for r in rows
        ]

    async def mark_executed(self, directive_id: str, request_id: str) -> None:
        await self._pool.execute(
            """
            UPDATE post_mortem_directives SET executed_at = COALESCE(executed_at, now()),
                   request_id = COALESCE(request_id, $2) WHERE directive_id = $1
            """,
            directive_id,
            request_id,
        )
