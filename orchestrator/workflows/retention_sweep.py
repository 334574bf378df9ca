"""Retention on schedules: a sweep of one rule, and the purge of the orchestrator's own copies.

Each is started by a Temporal Schedule made from the packs at start-up (``orchestrator.schedules``),
or by hand (``privacyctl retention dry-run``). A sweep works in bounded batches (each one
activity, each at most the rule's ``batch_size`` rows) from a cutoff fixed when the run begins,
and records its evidence once at the end: counts, never identities. A long sweep continues as
new every ``BATCHES_PER_RUN`` batches, carrying its cursor and totals, so its history stays small.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

from orchestrator.workflows.retries import LEDGER_RETRY

with workflow.unsafe.imports_passed_through():
    from schemas.periods import subtract_iso_period
    from workers.activities import definitions
    from workers.messages.retention import (
        LedgerPurge,
        LedgerRetentionInput,
        RetentionRun,
        SweepBatch,
        SweepInput,
    )

BATCHES_PER_RUN = 200
BATCH_RETRY = RetryPolicy(initial_interval=timedelta(seconds=1), maximum_interval=timedelta(minutes=1))


def sweep_schedule_id(tenant: str, rule: str) -> str:
    return f"privacy-retention-{tenant}-{rule}"


LEDGER_SCHEDULE_ID = "privacy-ledger-retention"


@workflow.defn(name="RetentionSweepWorkflow")
class RetentionSweepWorkflow:
    @workflow.run
    async def run(self, given: SweepInput) -> RetentionRun:
        rule = given.rule
        started_at = given.started_at or workflow.now().isoformat()
        # The cutoff is fixed once per run (before the first continue-as-new), so every batch of
        # a run asks the same question: rows dated before it.
        cutoff = given.cutoff or subtract_iso_period(workflow.now(), rule.period).isoformat()
        totals = given.totals
        cursor = given.cursor
        run_id = _run_id()
        for _ in range(BATCHES_PER_RUN):
            batch = await workflow.execute_activity(
                definitions.sweep_retention_batch,
                SweepBatch(run_id, rule, cutoff, cursor, given.dry_run),
                start_to_close_timeout=timedelta(minutes=5),
                retry_policy=BATCH_RETRY,
            )
            totals.examined += batch.examined
            totals.acted += batch.acted
            totals.skipped_held += batch.skipped_held
            totals.files_deleted += batch.files_deleted
            totals.batches += 1
            cursor = batch.cursor
            if batch.finished:
                break
        else:
            workflow.continue_as_new(SweepInput(rule, given.dry_run, started_at, cutoff, cursor, totals))
        run = RetentionRun(
            run_id=run_id,
            tenant=rule.tenant,
            rule=rule.name,
            system=rule.system,
            action=rule.action,
            dry_run=given.dry_run,
            cutoff=cutoff,
            started_at=started_at,
            finished_at=workflow.now().isoformat(),
            totals=totals,
            citation=rule.citation,
        )
        await workflow.execute_activity(
            definitions.record_retention_run,
            run,
            start_to_close_timeout=timedelta(seconds=30),
            retry_policy=LEDGER_RETRY,
        )
        return run


@workflow.defn(name="LedgerRetentionWorkflow")
class LedgerRetentionWorkflow:
    """The orchestrator's own copies (reports, records, identity documents) past their period go."""

    @workflow.run
    async def run(self, given: LedgerRetentionInput) -> LedgerPurge:
        return await workflow.execute_activity(
            definitions.purge_ledger_copies,
            given,
            start_to_close_timeout=timedelta(minutes=5),
            retry_policy=LEDGER_RETRY,
        )


def _run_id() -> str:
    """The run's id: the workflow's (a schedule names each run), the first run of a continued chain."""
    info = workflow.info()
    return f"{info.workflow_id}/{info.first_execution_run_id}"
