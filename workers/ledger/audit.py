"""The operators' audit log: who did what, when and why — tamper-evident.

Each entry carries the SHA-256 of the previous entry and of its own canonical content, so an
edited, removed or re-ordered entry breaks the chain and ``verify`` says where.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg

GENESIS = "0" * 64
_LOCK = 7203312


def entry_hash(
    prev_hash: str,
    at: datetime,
    actor: str,
    action: str,
    request_id: str | None,
    reason: str,
    details: dict[str, Any],
) -> str:
    canonical = json.dumps(
        [prev_hash, at.isoformat(), actor, action, request_id, reason, details],
        sort_keys=True,
        separators=(",", ":"),
        default=str,
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


@dataclass(frozen=True)
class Broken:
    seq: int
    problem: str


class AuditLog:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def record(
        self,
        actor: str,
        action: str,
        request_id: str | None,
        reason: str,
        details: dict[str, Any] | None = None,
    ) -> int:
        details = details or {}
        async with self._pool.acquire() as conn, conn.transaction():
            # One writer at a time, so each entry chains onto the true last one.
            await conn.execute("SELECT pg_advisory_xact_lock($1)", _LOCK)
            prev = await conn.fetchval("SELECT hash FROM audit_log ORDER BY seq DESC LIMIT 1") or GENESIS
            at = await conn.fetchval("SELECT date_trunc('milliseconds', clock_timestamp())")
            digest = entry_hash(prev, at, actor, action, request_id, reason, details)
            seq: int = await conn.fetchval(
                """
                INSERT INTO audit_log (at, actor, action, request_id, reason, details, prev_hash, hash)
                VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7, $8) RETURNING seq
                """,
                at,
                actor,
                action,
                request_id,
                reason,
                json.dumps(details, sort_keys=True),
                prev,
                digest,
            )
            return seq

    async def entries(self, request_id: str | None = None) -> list[dict[str, Any]]:
        rows = await self._pool.fetch(
            "SELECT * FROM audit_log WHERE $1::uuid IS NULL OR request_id = $1 ORDER BY seq", request_id
        )
        return [
            {
                "seq": r["seq"],
                "at": r["at"].isoformat(),
                "actor": r["actor"],
                "action": r["action"],
                "request_id": str(r["request_id"]) if r["request_id"] else None,
                "reason": r["reason"],
                "details": json.loads(r["details"]),
                "hash": r["hash"],
            }
            for r in rows
        ]

    async def verify(self) -> list[Broken]:
        """Every place where the chain does not hold; empty when the log is intact."""
        broken = []
        prev = GENESIS
        for r in await self._pool.fetch("SELECT * FROM audit_log ORDER BY seq"):
            if r["prev_hash"] != prev:
                broken.append(Broken(r["seq"], "does not chain onto the entry before it"))
            request_id = str(r["request_id"]) if r["request_id"] else None
            expected = entry_hash(
                r["prev_hash"],
                r["at"],
                r["actor"],
                r["action"],
                request_id,
                r["reason"],
                json.loads(r["details"]),
            )
            if expected != r["hash"]:
                broken.append(Broken(r["seq"], "content differs from what was recorded"))
            prev = r["hash"]
        return broken
