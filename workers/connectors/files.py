"""Files connector: recordings (or any files) on disk, indexed by metadata rows in PostgreSQL.

Pack shape: ``{"kind": "files", "database": ..., "table": ..., "match": {identity: column},
"path_column": ..., "root": <folder under the sandbox/data root>}``. Erasure removes the
file first, then its row, so a retry after a crash finds the row and finishes the job.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from schemas.periods import add_iso_period
from workers.connectors.base import (
    BatchResult,
    BatchSubject,
    Connector,
    ConnectorError,
    ConnectorResult,
    HeldSubjects,
    identifier,
    json_ready,
    subject_filter,
)
from workers.connectors.pools import DatabasePools
from workers.connectors.sql_sweep import select_batch
from workers.messages.requests import SystemStep, SystemTaskInput
from workers.messages.retention import RetentionRule, SweepResult


class FilesConnector(Connector):
    sweeps = True

    def __init__(self, pools: DatabasePools, data_root: Path) -> None:
        self._pools = pools
        self._data_root = data_root.resolve()

    async def sweep(
        self, rule: RetentionRule, cutoff: datetime, cursor: list[str] | None, dry_run: bool,
        held: HeldSubjects,
    ) -> SweepResult:  # fmt: skip
        """A retention rule's batch: files (then their rows) past their period, held subjects
        skipped. The file goes first, so a batch interrupted in between finds the row again."""
        if rule.action != "erase":
            raise ConnectorError(f"retention rule {rule.name}: files can only be erased", retryable=False)
        config = rule.connector
        path_column = config["path_column"]
        pool = await self._pools.get(config["database"])
        files_deleted = 0
        async with pool.acquire() as conn, conn.transaction():
            batch = await select_batch(
                conn,
                rule,
                cutoff,
                cursor,
                lock=not dry_run,
                held=held,
                extra_columns=(path_column,),
            )
            acted = len(batch.to_act)
            if batch.to_act and not dry_run:
                for row in batch.to_act:
                    path = self._under_root(config["root"], str(row[f"x_{path_column}"]))
                    if path.exists():
                        path.unlink()
                        files_deleted += 1
                status = await conn.execute(
                    f"DELETE FROM {identifier(config['table'])} WHERE ctid = ANY($1::text[]::tid[])",
                    [row["row_ref"] for row in batch.to_act],
                )
                acted = int(status.split()[-1])
        return SweepResult(len(batch.rows), acted, batch.held, batch.cursor, batch.finished, files_deleted)

    def _under_root(self, root_name: str, relative: str) -> Path:
        root = (self._data_root / root_name).resolve()
        path = (root / relative).resolve()
        if not root.is_relative_to(self._data_root) or not path.is_relative_to(root):
            raise ConnectorError("a metadata row points outside the files root", retryable=False)
        return path

    def _root(self, task: SystemTaskInput) -> Path:
        root = (self._data_root / task.step.connector["root"]).resolve()
        if not root.is_relative_to(self._data_root):
            raise ConnectorError("files connector root escapes the data root", retryable=False)
        return root

    def _file(self, task: SystemTaskInput, relative: str) -> Path:
        root = self._root(task)
        path = (root / relative).resolve()
        if not path.is_relative_to(root):
            raise ConnectorError("a metadata row points outside the files root", retryable=False)
        return path

    async def _rows(self, task: SystemTaskInput) -> list[dict[str, object]]:
        config = task.step.connector
        condition, params = subject_filter(task.identities(), config["match"])
        if not condition:
            return []
        pool = await self._pools.get(config["database"])
        rows = await pool.fetch(f"SELECT * FROM {identifier(config['table'])} WHERE {condition}", *params)
        return [dict(r) for r in rows]

    async def act_on_batch(
        self, step: SystemStep, batch_id: str, tenant: str, subjects: list[BatchSubject]
    ) -> BatchResult:
        return await self.act_one_by_one(step, batch_id, tenant, subjects)

    async def locate(self, task: SystemTaskInput) -> int:
        return len(await self._rows(task))

    async def export(self, task: SystemTaskInput) -> ConnectorResult:
        path_column = task.step.connector["path_column"]
        records = []
        for row in await self._rows(task):
            path = self._file(task, str(row[path_column]))
            record = json_ready(row)
            if path.is_file():
                data = path.read_bytes()
                record["file_bytes"] = len(data)
                record["file_sha256"] = hashlib.sha256(data).hexdigest()
            else:
                record["file_missing"] = True
            records.append(record)
        return ConnectorResult(
            "exported" if records else "not_found", evidence={"files": len(records)}, records=records
        )

    async def erase(self, task: SystemTaskInput) -> ConnectorResult:
        """Delete the subject's files and rows, except recent ones the rule keeps for a while."""
        config = task.step.connector
        pool = await self._pools.get(config["database"])
        files_deleted = rows_deleted = 0
        kept_until: list[datetime] = []
        keep = task.step.rule.get("keep_recent")
        now = datetime.now(UTC)
        for row in await self._rows(task):
            until = _kept_until(row, keep) if keep else None
            if until is not None and until > now:
                kept_until.append(until)
                continue
            path = self._file(task, str(row[config["path_column"]]))
            if path.exists():
                path.unlink()
                files_deleted += 1
            status = await pool.execute(
                f"DELETE FROM {identifier(config['table'])} WHERE {identifier(config['path_column'])} = $1",
                row[config["path_column"]],
            )
            rows_deleted += int(status.split()[-1])
        evidence: dict[str, Any] = {"files_deleted": files_deleted, "rows_deleted": rows_deleted}
        if kept_until:
            assert keep is not None
            evidence["files_kept"] = len(kept_until)
            return ConnectorResult(
                "retained",
                evidence=evidence,
                legal_basis=keep["legal_basis"],
                retained_until=max(kept_until).isoformat(),
            )
        return ConnectorResult("erased" if rows_deleted else "not_found", evidence=evidence)


def _kept_until(row: dict[str, object], keep: dict[str, Any]) -> datetime | None:
    """When the rule's retention period of this record ends, or None if it has none."""
    period = keep["periods"].get(str(row.get(keep["by"], ""))) if keep.get("by") else keep["periods"].get("*")
    stamp = row.get(keep["column"])
    if period is None or not isinstance(stamp, datetime):
        return None
    return add_iso_period(stamp, period)
