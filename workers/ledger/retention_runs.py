"""Evidence of retention sweeps: one row per run (rule, cutoff, counts), never an identity."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import asyncpg

from workers.messages.retention import RetentionRun


class RetentionRunStore:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def record(self, run: RetentionRun) -> bool:
        """Keep the run's evidence once (a retried activity records nothing twice)."""
        totals = run.totals
        status = await self._pool.execute(
            """
            INSERT INTO retention_runs (run_id, tenant, rule, system, action, dry_run, cutoff, started_at,
                                        finished_at, examined, acted, skipped_held, files_deleted, batches,
                                        citation)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)
            ON CONFLICT (run_id) DO NOTHING
            """,
            run.run_id, run.tenant, run.rule, run.system, run.action, run.dry_run,
            datetime.fromisoformat(run.cutoff), datetime.fromisoformat(run.started_at),
            datetime.fromisoformat(run.finished_at), totals.examined, totals.acted, totals.skipped_held,
            totals.files_deleted, totals.batches, run.citation,
        )  # fmt: skip
        return status != "INSERT 0 0"

    async def runs(self, tenant: str, rule: str | None = None, limit: int = 20) -> list[dict[str, Any]]:
        rows = await self._pool.fetch(
            """
            SELECT * FROM retention_runs WHERE tenant = $1 AND ($2::text IS NULL OR rule = $2)
             ORDER BY finished_at DESC LIMIT $3
            """,
            tenant,
            rule,
            limit,
        )
        return [
            {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in dict(row).items()}
            for row in rows
        ]
