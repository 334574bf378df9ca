"""The partner directory and what was sent to and heard from each partner, in PostgreSQL.

``partners``          one row per registered partner: where it listens, the certificate it signs with
``partner_requests``  one row per (request, system) sent to a partner, keyed by our subject_request_id
``partner_callbacks`` every accepted callback (by signature digest), the evidence of each status
Every write is idempotent: a retried activity or a partner calling twice finds its row.
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from typing import Any

import asyncpg

from schemas.vocabulary import partner_status_advances


class PartnerStore:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def register(self, partner: str, base_url: str, domain: str, certificate_pem: str) -> None:
        """Register or re-register (a new address or certificate replaces the old one)."""
        await self._pool.execute(
            """
            INSERT INTO partners (partner, base_url, domain, certificate_pem) VALUES ($1, $2, $3, $4)
            ON CONFLICT (partner) DO UPDATE SET base_url = $2, domain = $3, certificate_pem = $4,
                                                registered_at = now()
            """,
            partner,
            base_url.rstrip("/"),
            domain,
            certificate_pem,
        )

    async def partner(self, partner: str) -> asyncpg.Record | None:
        return await self._pool.fetchrow("SELECT * FROM partners WHERE partner = $1", partner)

    async def partner_by_domain(self, domain: str) -> asyncpg.Record | None:
        return await self._pool.fetchrow("SELECT * FROM partners WHERE domain = $1", domain)

    async def partners(self) -> list[dict[str, Any]]:
        rows = await self._pool.fetch(
            "SELECT partner, base_url, domain, registered_at FROM partners ORDER BY partner"
        )
        return [{**dict(row), "registered_at": row["registered_at"].isoformat()} for row in rows]

    async def claim(self, request_id: str, system: str, tenant: str, partner: str) -> asyncpg.Record:
        """The (request, system)'s row, made on first use with a fresh subject_request_id."""
        await self._pool.execute(
            """
            INSERT INTO partner_requests (subject_request_id, request_id, system, tenant, partner)
            VALUES ($1, $2, $3, $4, $5) ON CONFLICT (request_id, system) DO NOTHING
            """,
            uuid.uuid4(),
            request_id,
            system,
            tenant,
            partner,
        )
        row = await self._pool.fetchrow(
            "SELECT * FROM partner_requests WHERE request_id = $1 AND system = $2", request_id, system
        )
        assert row is not None
        return row

    async def submitted(self, subject_request_id: str, expected: datetime | None) -> None:
        await self._pool.execute(
            """
            UPDATE partner_requests
               SET status = CASE WHEN status = 'new' THEN 'pending' ELSE status END,
                   submitted_at = coalesce(submitted_at, now()),
                   expected_completion_time = coalesce($2, expected_completion_time), updated_at = now()
             WHERE subject_request_id = $1
            """,
            uuid.UUID(subject_request_id),
            expected,
        )

    async def polled(self, subject_request_id: str) -> None:
        """Count a status question to the partner (answered or not): the follow-up is on record."""
        await self._pool.execute(
            """
            UPDATE partner_requests SET polls = polls + 1, last_polled_at = now()
             WHERE subject_request_id = $1
            """,
            uuid.UUID(subject_request_id),
        )

    async def sent_request(self, subject_request_id: str) -> asyncpg.Record | None:
        try:
            key = uuid.UUID(subject_request_id)
        except ValueError:
            return None
        return await self._pool.fetchrow("SELECT * FROM partner_requests WHERE subject_request_id = $1", key)

    async def advance(self, subject_request_id: str, status: str, expected: datetime | None = None) -> str:
        """Move the status forward (never back, never out of a final one); the status after."""
        async with self._pool.acquire() as conn, conn.transaction():
            current = await conn.fetchval(
                "SELECT status FROM partner_requests WHERE subject_request_id = $1 FOR UPDATE",
                uuid.UUID(subject_request_id),
            )
            known = None if current == "new" else current
            if partner_status_advances(known, status):
                await conn.execute(
                    """
                    UPDATE partner_requests SET status = $2, updated_at = now(),
                           expected_completion_time = coalesce($3, expected_completion_time)
                     WHERE subject_request_id = $1
                    """,
                    uuid.UUID(subject_request_id),
                    status,
                    expected,
                )
                return status
            return str(current)

    async def keep_callback(
        self, digest: str, subject_request_id: str, status: str, sent: datetime, signature: str, body: Any
    ) -> bool:
        """Keep a verified callback as evidence; False when this very callback was already applied
        (a partner retrying a callback we kept but could not apply, e.g. Temporal was down, gets
        it applied now)."""
        inserted = await self._pool.fetchval(
            """
            INSERT INTO partner_callbacks
                   (digest, subject_request_id, request_status, sent_time, signature, body)
            VALUES ($1, $2, $3, $4, $5, $6::jsonb) ON CONFLICT (digest) DO NOTHING RETURNING true
            """,
            digest,
            uuid.UUID(subject_request_id),
            status,
            sent,
            signature,
            json.dumps(body),
        )
        if inserted:
            return True
        applied = await self._pool.fetchval(
            "SELECT applied_at FROM partner_callbacks WHERE digest = $1", digest
        )
        return applied is None

    async def applied(self, digest: str) -> None:
        await self._pool.execute(
            "UPDATE partner_callbacks SET applied_at = coalesce(applied_at, now()) WHERE digest = $1", digest
        )

    async def callbacks(self, subject_request_id: str) -> list[dict[str, Any]]:
        rows = await self._pool.fetch(
            """
            SELECT request_status, sent_time, received_at, digest FROM partner_callbacks
             WHERE subject_request_id = $1 ORDER BY received_at
            """,
            uuid.UUID(subject_request_id),
        )
        return [
            {
                "request_status": r["request_status"],
                "sent_time": r["sent_time"].isoformat(),
                "received_at": r["received_at"].isoformat(),
                "digest": r["digest"],
            }
            for r in rows
        ]
