"""Identity resolution's evidence: which identifiers drove a request, given or found, and where.

The identifiers are personal data: kept sealed by the caller (AES-GCM, ``workers.runtime.codec``,
bound to the request id), next to a summary a DPO can read — kinds, counts, source systems —
that holds no identifier at all.
"""

from __future__ import annotations

import json
from typing import Any

import asyncpg


class IdentityStore:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def keep(self, request_id: str, summary: dict[str, Any], key_id: str, sealed: bytes) -> None:
        """Keep (or, on a retried resolution, replace) the request's resolution evidence."""
        await self._pool.execute(
            """
            INSERT INTO request_identities (request_id, summary, key_id, sealed)
            VALUES ($1, $2::jsonb, $3, $4)
            ON CONFLICT (request_id) DO UPDATE
               SET summary = EXCLUDED.summary, key_id = EXCLUDED.key_id, sealed = EXCLUDED.sealed,
                   resolved_at = now()
            """,
            request_id,
            json.dumps(summary),
            key_id,
            sealed,
        )

    async def summary(self, request_id: str) -> dict[str, Any] | None:
        """Kinds, counts and sources of the identifiers used: no identifier."""
        value = await self._pool.fetchval(
            "SELECT summary FROM request_identities WHERE request_id = $1", request_id
        )
        return None if value is None else dict(json.loads(value) if isinstance(value, str) else value)

    async def sealed(self, request_id: str) -> tuple[str, bytes] | None:
        row = await self._pool.fetchrow(
            "SELECT key_id, sealed FROM request_identities WHERE request_id = $1", request_id
        )
        return None if row is None else (row["key_id"], bytes(row["sealed"]))
