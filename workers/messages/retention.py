"""Messages of retention sweeps and of the ledger's own retention: rules, batches, run evidence.

No identities anywhere here: a sweep selects rows by their dates, recognises held subjects by
pseudonymous references, and reports counts only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class RetentionRule:
    """One retention promise of a tenant, resolved from its pack with the system's connector.

    ``counts_from``: ``{"column": ..., "event": record_date|last_activity|contract_end|survey_end,
    "through": {"table": ..., "on": ...}}`` (``through``: the date lives in a related table,
    joined on a column of the same name). ``where``: column → the values a row must have.
    """

    tenant: str
    name: str
    system: str
    connector: dict[str, Any]
    table: str | None
    counts_from: dict[str, Any]
    period: str
    action: str  # erase | anonymise
    citation: str
    where: dict[str, list[str]] = field(default_factory=dict)
    anonymise_columns: list[str] = field(default_factory=list)
    batch_size: int = 500


@dataclass
class SweepTotals:
    """What a sweep run found and did so far (carried across continue-as-new)."""

    examined: int = 0
    acted: int = 0
    skipped_held: int = 0
    files_deleted: int = 0
    batches: int = 0


@dataclass
class SweepInput:
    """A sweep of one rule: started by its schedule, or by ``privacyctl retention dry-run``."""

    rule: RetentionRule
    dry_run: bool = False
    # Carried over continue-as-new: when the run began, its cutoff, where it got to, the totals.
    started_at: str | None = None
    cutoff: str | None = None
    cursor: list[str] | None = None
    totals: SweepTotals = field(default_factory=SweepTotals)


@dataclass
class SweepBatch:
    """One bounded batch of a sweep: rows whose date is before ``cutoff``, after ``cursor``."""

    run_id: str
    rule: RetentionRule
    cutoff: str
    cursor: list[str] | None
    dry_run: bool


@dataclass
class SweepResult:
    """What one batch found and did; ``cursor`` is where the next batch starts."""

    examined: int
    acted: int
    skipped_held: int
    cursor: list[str] | None
    finished: bool
    files_deleted: int = 0


@dataclass
class RetentionRun:
    """The evidence of one sweep run (counts, never identities), kept in ``retention_runs``."""

    run_id: str
    tenant: str
    rule: str
    system: str
    action: str
    dry_run: bool
    cutoff: str
    started_at: str
    finished_at: str
    totals: SweepTotals
    citation: str = ""


@dataclass
class LedgerRetentionInput:
    """How long the orchestrator keeps its own copies (reports, records) per tenant, after the
    request closed; ``default`` for tenants whose pack says nothing."""

    keep_copies: dict[str, str] = field(default_factory=dict)
    default: str = "P30D"


@dataclass
class LedgerPurge:
    """What a purge of the orchestrator's own copies removed and sealed (counts only)."""

    reports_purged: int = 0
    records_purged: int = 0
    documents_purged: int = 0
    sealed_legacy: int = 0
    at: str = ""
