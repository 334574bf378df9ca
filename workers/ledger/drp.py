"""Data Rights Protocol store: agents' pairwise tokens, signed messages seen, agents' requests.

Bearer tokens are kept only as SHA-256 digests (a leaked ledger gives no token). Every signed
message's digest is kept until its ``expires-at``: the same signed bytes presented twice are a
replay and are refused. ``drp_requests`` ties our request_id to the agent that made it (only
that agent may read or revoke it) and records what its ``status_callback`` was last told, so
the notifier (orchestrator.api.drp_notify) resumes after a restart without telling twice, and,
when the agent vouched for less than the tenant's rule asks, until when the person may verify
with us, how many wrong answers they gave, and when they verified (migration 0015).
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

import asyncpg


def digest(value: bytes | str) -> str:
    return hashlib.sha256(value.encode() if isinstance(value, str) else value).hexdigest()


class DrpStore:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def keep_token(self, token: str, agent_id: str, business_id: str) -> None:
        await self._pool.execute(
            "INSERT INTO drp_tokens (token_digest, agent_id, business_id) VALUES ($1, $2, $3)",
            digest(token), agent_id, business_id,
        )  # fmt: skip

    async def token_holder(self, token: str) -> tuple[str, str] | None:
        """(agent_id, business_id) of a bearer token, or None for a token we never issued."""
        row = await self._pool.fetchrow(
            "SELECT agent_id, business_id FROM drp_tokens WHERE token_digest = $1", digest(token)
        )
        return (row["agent_id"], row["business_id"]) if row else None

    async def first_sight(self, signed: bytes, agent_id: str, kind: str, expires_at: datetime) -> bool:
        """Remember a signed message; False when it was presented before (a replay)."""
        async with self._pool.acquire() as conn:
            await conn.execute("DELETE FROM drp_messages WHERE expires_at < now() - interval '1 day'")
            inserted = await conn.fetchval(
                "INSERT INTO drp_messages (message_digest, agent_id, kind, expires_at) "
                "VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING RETURNING true",
                digest(signed), agent_id, kind, expires_at,
            )  # fmt: skip
        return bool(inserted)

    async def record_request(
        self,
        request_id: str,
        agent_id: str,
        business_id: str,
        tenant: str,
        agent_request_id: str | None,
        exercise: str,
        status_callback: str | None,
        user_verification_until: datetime | None = None,
    ) -> datetime:
        """Record an agent's request; returns when it was received."""
        received: datetime = await self._pool.fetchval(
            "INSERT INTO drp_requests (request_id, agent_id, business_id, tenant, agent_request_id,"
            " exercise, status_callback, user_verification_until)"
            " VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING received_at",
            request_id, agent_id, business_id, tenant, agent_request_id, exercise, status_callback,
            user_verification_until,
        )  # fmt: skip
        return received

    async def user_verification_failed(self, request_id: str) -> int:
        """Count a wrong answer on the verification page; returns the wrong answers so far."""
        attempts: int = await self._pool.fetchval(
            "UPDATE drp_requests SET user_verification_attempts = user_verification_attempts + 1"
            " WHERE request_id = $1 RETURNING user_verification_attempts",
            request_id,
        )
        return attempts

    async def user_verified(self, request_id: str, verified: bool = True) -> None:
        """The person verified on our page (or, ``verified=False``, undo it: the workflow refused)."""
        await self._pool.execute(
            "UPDATE drp_requests SET user_verified_at = CASE WHEN $2 THEN now() END, notify_after = now()"
            " WHERE request_id = $1",
            request_id, verified,
        )  # fmt: skip

    async def forget_request(self, request_id: str) -> None:
        """Undo ``record_request`` when the request could not be published (the agent retries)."""
        await self._pool.execute("DELETE FROM drp_requests WHERE request_id = $1", request_id)

    async def request(self, request_id: str) -> dict[str, Any] | None:
        """The agent's request joined with the ledger's view of it (None fields before intake)."""
        row = await self._pool.fetchrow(_JOINED + " WHERE d.request_id = $1", request_id)
        return dict(row) if row else None

    async def mark_revoked(self, request_id: str, revoked: bool) -> None:
        await self._pool.execute(
            "UPDATE drp_requests SET revoked_at = CASE WHEN $2 THEN now() END, notify_after = now() "
            "WHERE request_id = $1",
            request_id, revoked,
        )  # fmt: skip

    async def due_for_notice(self, limit: int = 100) -> list[dict[str, Any]]:
        """Requests with a status_callback whose agent may not know their latest status yet."""
        rows = await self._pool.fetch(
            _JOINED + " WHERE d.status_callback IS NOT NULL AND NOT d.notify_done"
            " AND d.notify_after <= now() ORDER BY d.notify_after LIMIT $1",
            limit,
        )
        return [dict(r) for r in rows]

    async def notified(self, request_id: str, status_key: str, final: bool) -> None:
        await self._pool.execute(
            "UPDATE drp_requests SET notified = $2, notify_done = $3, notify_attempts = 0,"
            " notify_error = NULL, notify_after = now() WHERE request_id = $1",
            request_id, status_key, final,
        )  # fmt: skip

    async def unchanged(self, request_ids: list[str], recheck_in_seconds: float) -> None:
        """Rows read with nothing new go to the back of the queue, so a long list of requests that
        wait for weeks never keeps the newer ones from being looked at."""
        if request_ids:
            await self._pool.execute(
                "UPDATE drp_requests SET notify_after = now() + make_interval(secs => $2)"
                " WHERE request_id = ANY($1::uuid[])",
                request_ids, recheck_in_seconds,
            )  # fmt: skip

    async def notice_failed(self, request_id: str, error: str, retry_in_seconds: float) -> int:
        """Count a failed callback and schedule the next try; returns the attempts so far."""
        attempts: int = await self._pool.fetchval(
            "UPDATE drp_requests SET notify_attempts = notify_attempts + 1, notify_error = $2,"
            " notify_after = now() + make_interval(secs => $3) WHERE request_id = $1"
            " RETURNING notify_attempts",
            request_id, error[:500], retry_in_seconds,
        )  # fmt: skip
        return attempts


# The agent's request, the ledger's view of it, and whether its results (the access report) are
# still kept: ``results_purged_at`` is the same tombstone the report route answers 410 Gone on.
_JOINED = (
    "SELECT d.request_id::text AS request_id, d.agent_id, d.business_id, d.tenant, d.agent_request_id,"
    " d.exercise, d.status_callback, d.received_at, d.revoked_at, d.notified, d.notify_attempts,"
    " d.user_verification_until, d.user_verification_attempts, d.user_verified_at,"
    " r.status AS ledger_status, r.reason AS ledger_reason, r.flags AS ledger_flags, r.due_at,"
    " r.closed_at, rep.request_id IS NOT NULL AS has_results, rep.purged_at AS results_purged_at"
    " FROM drp_requests d LEFT JOIN requests r ON r.request_id = d.request_id"
    " LEFT JOIN reports rep ON rep.request_id = d.request_id"
)
