"""The operators' audit log: who did what, when and why — tamper-evident, sealed with a key.

Each entry carries the seal of the previous entry and its own: an HMAC-SHA-256, under the audit
key (``workers.runtime.secrets``), of its canonical content and the previous seal. Someone who
can write to the ledger but does not hold the key can neither edit, remove, re-order nor append
an entry without ``verify`` saying where. Cutting entries off the end leaves a valid shorter
chain: that is what the exported **head** is for — ``head()`` (count, last seq, last seal)
kept elsewhere, ``verify(head)`` later proves the log still reaches it unchanged.

Entries written before the log was keyed keep their plain SHA-256 (``seal = 'sha256'``, set by
migration 0009) and are reported as not sealed: anyone could have written them, so accepting
them would let a forger re-hash an edited log the unkeyed way. A dev ledger from before the key
existed verifies again once started afresh (``make clean``).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

import asyncpg

GENESIS = "0" * 64
_LOCK = 7203312
KEYED = "hmac-sha256"


class AuditKeyMissing(RuntimeError):
    """This process was given no audit key: it may read the log, not write or verify it."""


def _canonical(
    prev_hash: str, at: datetime, actor: str, action: str, request_id: str | None, reason: str,
    details: dict[str, Any],
) -> bytes:  # fmt: skip
    return json.dumps(
        [prev_hash, at.isoformat(), actor, action, request_id, reason, details],
        sort_keys=True,
        separators=(",", ":"),
        default=str,
    ).encode()


def entry_seal(
    key: bytes,
    prev_hash: str,
    at: datetime,
    actor: str,
    action: str,
    request_id: str | None,
    reason: str,
    details: dict[str, Any],
) -> str:
    """The keyed seal of one entry (chained through ``prev_hash``)."""
    canonical = _canonical(prev_hash, at, actor, action, request_id, reason, details)
    return hmac.new(key, canonical, hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class Broken:
    seq: int
    problem: str


@dataclass(frozen=True)
class AuditHead:
    """Where the log stood: kept outside the ledger, checked by ``verify`` later."""

    count: int
    seq: int
    head: str

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> AuditHead:
        """Parse an exported head; ValueError naming what is wrong."""
        try:
            value = json.loads(text)
            return cls(int(value["count"]), int(value["seq"]), str(value["head"]))
        except (json.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"not an audit head (count, seq, head): {exc}") from None


class AuditLog:
    def __init__(self, pool: asyncpg.Pool, key: bytes | None) -> None:
        self._pool = pool
        self._key = key

    def _require_key(self) -> bytes:
        if not self._key:
            raise AuditKeyMissing("no audit key: set PRIVACY_AUDIT_KEY (see workers/runtime/secrets.py)")
        return self._key

    async def record(
        self,
        actor: str,
        action: str,
        request_id: str | None,
        reason: str,
        details: dict[str, Any] | None = None,
    ) -> int:
        key = self._require_key()
        details = details or {}
        async with self._pool.acquire() as conn, conn.transaction():
            # One writer at a time, so each entry chains onto the true last one.
            await conn.execute("SELECT pg_advisory_xact_lock($1)", _LOCK)
            prev = await conn.fetchval("SELECT hash FROM audit_log ORDER BY seq DESC LIMIT 1") or GENESIS
            at = await conn.fetchval("SELECT date_trunc('milliseconds', clock_timestamp())")
            seal = entry_seal(key, prev, at, actor, action, request_id, reason, details)
            seq: int = await conn.fetchval(
                """
                INSERT INTO audit_log (at, actor, action, request_id, reason, details, prev_hash, hash, seal)
                VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7, $8, $9) RETURNING seq
                """,
                at,
                actor,
                action,
                request_id,
                reason,
                json.dumps(details, sort_keys=True),
                prev,
                seal,
                KEYED,
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

    async def head(self) -> AuditHead:
        """The log's count and last entry: export it, keep it elsewhere, check it with ``verify``."""
        row = await self._pool.fetchrow(
            "SELECT count(*) AS n, max(seq) AS seq, "
            "(SELECT hash FROM audit_log ORDER BY seq DESC LIMIT 1) AS head FROM audit_log"
        )
        return AuditHead(int(row["n"]), int(row["seq"] or 0), row["head"] or GENESIS)

    async def verify(self, head: AuditHead | None = None) -> list[Broken]:
        """Every place where the chain does not hold; empty when the log is intact (and, given an
        exported ``head``, still holds that entry unchanged and at least that many entries)."""
        key = self._require_key()
        broken = []
        prev = GENESIS
        rows = await self._pool.fetch("SELECT * FROM audit_log ORDER BY seq")
        for r in rows:
            if r["prev_hash"] != prev:
                broken.append(Broken(r["seq"], "does not chain onto the entry before it"))
            request_id = str(r["request_id"]) if r["request_id"] else None
            content = (r["prev_hash"], r["at"], r["actor"], r["action"], request_id, r["reason"],
                       json.loads(r["details"]))  # fmt: skip
            if r["seal"] != KEYED:
                broken.append(
                    Broken(r["seq"], "not sealed with the audit key (written before it, or forged)")
                )
            elif not hmac.compare_digest(entry_seal(key, *content), r["hash"]):
                broken.append(
                    Broken(r["seq"], "content differs from what was recorded (or sealed with another key)")
                )
            prev = r["hash"]
        if head is not None:
            broken += _against_head(head, {r["seq"]: r["hash"] for r in rows}, len(rows))
        return broken


def _against_head(head: AuditHead, seals: dict[int, str], count: int) -> list[Broken]:
    """What an exported head says is missing or changed."""
    problems = []
    if head.seq and head.seq not in seals:
        problems.append(Broken(head.seq, "the exported head's entry is gone: the log was truncated"))
    elif head.seq and not hmac.compare_digest(seals[head.seq], head.head):
        problems.append(Broken(head.seq, "the exported head's entry was rewritten"))
    if count < head.count:
        problems.append(Broken(head.seq, f"{head.count - count} entries fewer than at the exported head"))
    return problems
