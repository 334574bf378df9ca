"""The orchestrator's own copies of personal data: access reports, per-system records, identity
documents — sealed at rest, purged when their time is up.

Each copy is kept AES-GCM sealed (the claim check of ``workers.runtime.codec``: key id beside
the ciphertext, the copy's own id bound as context, so a blob moved to another row does not
open). A report and the records behind it are kept ``own_copies`` after the request closed
(pack, default 30 days); an identity document only until the verification decision; and all of
a person's copies go when their erasure closes. What stays is the evidence the law needs — that
a request existed, what each system did, when — under pseudonymous subject references only. A
purged report leaves a tombstone (when, why), so the API can answer 410 rather than 404.
Rows written in clear by releases before sealing stay readable and are sealed by ``seal_legacy``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

import asyncpg

LEGACY_BATCH = 500


class Sealer(Protocol):
    """Seals and opens data kept outside Temporal (``AesGcmCodec`` is one)."""

    def seal(self, data: bytes, context: str) -> tuple[str, bytes]: ...

    def unseal(self, key_id: str, blob: bytes, context: str) -> bytes: ...


@dataclass
class StoredReport:
    """A report as the ledger holds it: its content, or when and why it was purged."""

    report: dict[str, Any] | None
    html: str | None
    purged_at: str | None = None
    purge_reason: str | None = None


@dataclass
class PurgeCounts:
    reports: int = 0
    records: int = 0
    documents: int = 0


class CopyStore:
    def __init__(self, pool: asyncpg.Pool, sealer: Sealer | None) -> None:
        self._pool = pool
        self._sealer = sealer

    def _need_sealer(self) -> Sealer:
        if self._sealer is None:
            raise RuntimeError(
                "this ledger was opened without a sealer: personal copies can be neither kept nor read"
            )
        return self._sealer

    def _seal(self, value: Any, context: str) -> tuple[str, bytes]:
        return self._need_sealer().seal(json.dumps(value, default=str).encode(), context)

    def _open(self, key_id: str, blob: bytes, context: str) -> Any:
        return json.loads(self._need_sealer().unseal(key_id, bytes(blob), context))

    # -- records ------------------------------------------------------------------------------
    async def store_records(self, request_id: str, system: str, records: list[dict[str, Any]]) -> None:
        """Keep the records found for an access or portability request, sealed (first answer wins)."""
        key_id, sealed = self._seal(records, f"records:{request_id}:{system}")
        await self._pool.execute(
            """
            INSERT INTO request_systems (request_id, system, action, records_key_id, records_sealed)
            VALUES ($1, $2, 'export', $3, $4)
            ON CONFLICT (request_id, system) DO UPDATE
               SET records_key_id = EXCLUDED.records_key_id, records_sealed = EXCLUDED.records_sealed
             WHERE request_systems.records IS NULL AND request_systems.records_sealed IS NULL
               AND request_systems.records_purged_at IS NULL
            """,
            request_id,
            system,
            key_id,
            sealed,
        )

    async def system_records(self, request_id: str) -> dict[str, list[dict[str, Any]]]:
        rows = await self._pool.fetch(
            "SELECT system, records, records_key_id, records_sealed FROM request_systems"
            " WHERE request_id = $1",
            request_id,
        )
        found: dict[str, list[dict[str, Any]]] = {}
        for row in rows:
            if row["records_sealed"] is not None:
                found[row["system"]] = self._open(
                    row["records_key_id"], row["records_sealed"], f"records:{request_id}:{row['system']}"
                )
            else:  # written in clear before sealing, or nothing kept
                found[row["system"]] = json.loads(row["records"]) if row["records"] else []
        return found

    # -- reports ------------------------------------------------------------------------------
    async def save_report(self, request_id: str, report: dict[str, Any], html: str) -> None:
        key_id, sealed = self._seal({"report": report, "html": html}, f"report:{request_id}")
        await self._pool.execute(
            """
            INSERT INTO reports (request_id, key_id, sealed) VALUES ($1, $2, $3)
            ON CONFLICT (request_id) DO UPDATE SET key_id = EXCLUDED.key_id, sealed = EXCLUDED.sealed,
                   report = NULL, html = NULL
             WHERE reports.purged_at IS NULL
            """,
            request_id,
            key_id,
            sealed,
        )

    async def stored_report(self, request_id: str) -> StoredReport | None:
        """The report opened, or its tombstone once purged; None when there never was one."""
        row = await self._pool.fetchrow("SELECT * FROM reports WHERE request_id = $1", request_id)
        if row is None:
            return None
        if row["purged_at"] is not None:
            return StoredReport(None, None, row["purged_at"].isoformat(), row["purge_reason"])
        if row["sealed"] is not None:
            opened = self._open(row["key_id"], row["sealed"], f"report:{request_id}")
            return StoredReport(opened["report"], opened["html"])
        return StoredReport(json.loads(row["report"]), row["html"])

    # -- identity documents -------------------------------------------------------------------
    async def keep_document(self, request_id: str, document: str) -> None:
        key_id, sealed = self._seal(document, f"identity-document:{request_id}")
        await self._pool.execute(
            "INSERT INTO identity_documents (request_id, key_id, sealed) VALUES ($1, $2, $3)"
            " ON CONFLICT DO NOTHING",
            request_id,
            key_id,
            sealed,
        )

    async def document(self, request_id: str) -> str | None:
        row = await self._pool.fetchrow("SELECT * FROM identity_documents WHERE request_id = $1", request_id)
        if row is None:
            return None
        if row["sealed"] is not None:
            value: str = self._open(row["key_id"], row["sealed"], f"identity-document:{request_id}")
            return value
        return str(row["document"])

    # -- purges -------------------------------------------------------------------------------
    async def purge_closed_before(
        self, tenant: str | None, before: datetime, exclude: list[str]
    ) -> PurgeCounts:
        """Purge the reports and records of requests closed before ``before`` — of ``tenant``, or
        of every tenant not in ``exclude`` when ``tenant`` is None — and every identity document
        whose verification decision is past."""
        if tenant is not None:
            where, args = "q.closed_at < $1 AND q.tenant = $2", [before, tenant]
        else:
            where, args = "q.closed_at < $1 AND NOT (q.tenant = ANY($2::text[]))", [before, exclude]
        return await self._purge(
            where, args, "kept for its period after the request closed; the period has ended"
        )

    async def purge_subject(self, tenant: str, refs: list[str]) -> PurgeCounts:
        """Purge every copy of one person's requests (their erasure has closed)."""
        return await self._purge(
            "q.tenant = $1 AND q.subject_refs && $2::text[]",
            [tenant, refs],
            "the person's erasure request closed: the orchestrator's copies were erased with the rest",
        )

    async def _purge(self, where: str, args: list[Any], reason: str) -> PurgeCounts:
        counts = PurgeCounts()
        reason_param = f"${len(args) + 1}"
        async with self._pool.acquire() as conn, conn.transaction():
            status = await conn.execute(
                f"""
                UPDATE reports r SET report = NULL, html = NULL, key_id = NULL, sealed = NULL,
                       purged_at = now(), purge_reason = {reason_param}
                  FROM requests q
                 WHERE q.request_id = r.request_id AND r.purged_at IS NULL AND {where}
                """,
                *args,
                reason,
            )
            counts.reports = int(status.split()[-1])
            status = await conn.execute(
                f"""
                UPDATE request_systems s SET records = NULL, records_key_id = NULL, records_sealed = NULL,
                       records_purged_at = now()
                  FROM requests q
                 WHERE q.request_id = s.request_id AND s.records_purged_at IS NULL
                   AND (s.records IS NOT NULL OR s.records_sealed IS NOT NULL) AND {where}
                """,
                *args,
            )
            counts.records = int(status.split()[-1])
            status = await conn.execute(
                f"""
                DELETE FROM identity_documents d USING requests q
                 WHERE q.request_id = d.request_id AND {where}
                """,
                *args,
            )
            counts.documents = int(status.split()[-1])
        return counts

    async def purge_decided_documents(self) -> int:
        """Identity documents whose verification decision is past (whatever the tenant): gone."""
        status = await self._pool.execute(
            """
            DELETE FROM identity_documents d USING requests q
             WHERE q.request_id = d.request_id AND q.status NOT IN ('received', 'awaiting_verification')
            """
        )
        return int(status.split()[-1])

    async def seal_legacy(self) -> int:
        """Seal one batch of copies an earlier release wrote in clear; how many were sealed."""
        sealed = 0
        async with self._pool.acquire() as conn, conn.transaction():
            for row in await conn.fetch(
                "SELECT request_id, report, html FROM reports WHERE sealed IS NULL AND report IS NOT NULL"
                f" AND purged_at IS NULL LIMIT {LEGACY_BATCH} FOR UPDATE SKIP LOCKED"
            ):
                key_id, blob = self._seal(
                    {"report": json.loads(row["report"]), "html": row["html"]}, f"report:{row['request_id']}"
                )
                await conn.execute(
                    "UPDATE reports SET key_id = $2, sealed = $3, report = NULL, html = NULL"
                    " WHERE request_id = $1",
                    row["request_id"], key_id, blob,
                )  # fmt: skip
                sealed += 1
            for row in await conn.fetch(
                "SELECT request_id, system, records FROM request_systems WHERE records IS NOT NULL"
                f" AND records_sealed IS NULL LIMIT {LEGACY_BATCH} FOR UPDATE SKIP LOCKED"
            ):
                key_id, blob = self._seal(
                    json.loads(row["records"]), f"records:{row['request_id']}:{row['system']}"
                )
                await conn.execute(
                    """UPDATE request_systems SET records_key_id = $3, records_sealed = $4, records = NULL
                        WHERE request_id = $1 AND system = $2""",
                    row["request_id"], row["system"], key_id, blob,
                )  # fmt: skip
                sealed += 1
            for row in await conn.fetch(
                "SELECT request_id, document FROM identity_documents WHERE document IS NOT NULL"
                f" AND sealed IS NULL LIMIT {LEGACY_BATCH} FOR UPDATE SKIP LOCKED"
            ):
                key_id, blob = self._seal(row["document"], f"identity-document:{row['request_id']}")
                await conn.execute(
                    "UPDATE identity_documents SET key_id = $2, sealed = $3, document = NULL"
                    " WHERE request_id = $1",
                    row["request_id"], key_id, blob,
                )  # fmt: skip
                sealed += 1
        return sealed
