"""Retention: sweeps that carry out a tenant's retention rules through its connectors, and the
purge of the orchestrator's own copies of personal data.

A sweep batch asks the ledger which subject references are under a legal hold (active, or
released after the cutoff), then lets the system's connector act on one bounded batch. A run's
evidence is counts only — in ``retention_runs`` and on ``privacy.request-events.v1`` — never
an identity.
"""

from __future__ import annotations

import logging
from dataclasses import asdict
from datetime import UTC, datetime

from temporalio.exceptions import ApplicationError

from schemas import REQUEST_EVENTS_TOPIC
from schemas.periods import subtract_iso_period
from workers.activities import definitions
from workers.activities.definitions import implements
from workers.activities.evidence import Evidence, now
from workers.activities.requests import raise_connector_error
from workers.connectors.base import ConnectorError, HeldSubjects
from workers.connectors.registry import ConnectorRegistry
from workers.messages.requests import SubjectQuery
from workers.messages.retention import (
    LedgerPurge,
    LedgerRetentionInput,
    RetentionRun,
    SweepBatch,
    SweepResult,
)

log = logging.getLogger(__name__)


class RetentionActivities:
    def __init__(self, evidence: Evidence, connectors: ConnectorRegistry, ref_key: bytes) -> None:
        self._evidence = evidence
        self._ledger = evidence.ledger
        self._connectors = connectors
        self._ref_key = ref_key  # keys the subject references legal holds are kept by

    @implements(definitions.sweep_retention_batch)
    async def sweep_retention_batch(self, batch: SweepBatch) -> SweepResult:
        """One bounded batch of a rule; rows of held subjects are skipped (and counted)."""
        rule = batch.rule
        connector = self._connectors.for_kind(rule.connector["kind"])
        cutoff = datetime.fromisoformat(batch.cutoff)
        refs = await self._ledger.holds.refs_held_since(rule.tenant, cutoff)
        held = HeldSubjects(rule.tenant, frozenset(refs), self._ref_key)
        try:
            return await connector.sweep(rule, cutoff, batch.cursor, batch.dry_run, held)
        except ConnectorError as exc:
            raise_connector_error(exc)

    @implements(definitions.record_retention_run)
    async def record_retention_run(self, run: RetentionRun) -> None:
        """Keep the run's counts once, and publish them (the event id is the run's)."""
        if run.run_id == "" or not run.tenant:
            raise ApplicationError("a retention run needs its id and tenant", non_retryable=True)
        await self._ledger.retention_runs.record(run)
        value = {
            "event_id": f"{run.run_id}:retention_run", "request_id": run.run_id, "tenant": run.tenant,
            "kind": "retention_run", "at": run.finished_at, "system": run.system, "action": run.action,
            "rule": run.rule, "dry_run": run.dry_run, "cutoff": run.cutoff, **asdict(run.totals),
        }  # fmt: skip
        await self._evidence.publish_value(REQUEST_EVENTS_TOPIC, run.run_id, value)
        log.info(
            "retention %s/%s%s: %d examined, %d %s, %d held",
            run.tenant, run.rule, " (dry run)" if run.dry_run else "", run.totals.examined,
            run.totals.acted, "would go" if run.dry_run else run.action, run.totals.skipped_held,
        )  # fmt: skip

    @implements(definitions.purge_ledger_copies)
    async def purge_ledger_copies(self, given: LedgerRetentionInput) -> LedgerPurge:
        """Reports and records past their period after the request closed (per tenant, else the
        default), identity documents past their decision; copies still in clear get sealed."""
        copies = self._ledger.copies
        at = datetime.now(UTC)
        purged = LedgerPurge(at=at.isoformat())
        for tenant, period in sorted(given.keep_copies.items()):
            counts = await copies.purge_closed_before(tenant, subtract_iso_period(at, period), [])
            purged.reports_purged += counts.reports
            purged.records_purged += counts.records
            purged.documents_purged += counts.documents
        counts = await copies.purge_closed_before(
            None, subtract_iso_period(at, given.default), sorted(given.keep_copies)
        )
        purged.reports_purged += counts.reports
        purged.records_purged += counts.records
        purged.documents_purged += counts.documents + await copies.purge_decided_documents()
        purged.sealed_legacy = await copies.seal_legacy()
        log.info("own copies purged: %s", asdict(purged))
        return purged

    @implements(definitions.purge_subject_copies)
    async def purge_subject_copies(self, query: SubjectQuery) -> LedgerPurge:
        """The person's erasure closed: their reports, records and documents go too; the evidence
        that each request existed and what was done stays, under pseudonymous references."""
        counts = await self._ledger.copies.purge_subject(query.tenant, query.subject_refs)
        purged = LedgerPurge(counts.reports, counts.records, counts.documents, 0, now())
        await self._evidence.event(
            query.request_id, query.tenant, "erasure", "copies_purged", "copies_purged",
            reports=counts.reports, records=counts.records, documents=counts.documents,
        )  # fmt: skip
        return purged
