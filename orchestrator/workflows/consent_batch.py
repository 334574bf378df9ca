"""Consent withdrawals at stream speed: one workflow per tenant and window of changes.

The changes (and the suppression list) are in the ledger first — kept by the intake with the
sealed batch, or by this workflow's first activity for batches an earlier intake started. Then
each system gets the withdrawals it must act on, all at once: an SQL system stops them and
keeps its per-subject evidence in one activity, an asynchronous tool receives one batch task
and confirms the batch on Kafka, and its answer becomes per-subject evidence. The workflow id
comes from the batch's event ids, so a window delivered twice is one workflow; every step is
keyed by (batch, system).
"""

from __future__ import annotations

import asyncio
import contextlib
from datetime import timedelta

from temporalio import workflow
from temporalio.exceptions import ActivityError

from orchestrator.workflows.retries import CONNECTOR_RETRY, LEDGER_RETRY

with workflow.unsafe.imports_passed_through():
    # Every module whose dataclasses appear in a payload is imported here by name, nested ones
    # too (SystemShare holds a SystemStep): the sandbox registers only the modules a workflow
    # imports itself, and decoding needs each one's names.
    import workers.messages.requests  # noqa: F401
    from schemas.vocabulary import FINAL_OUTCOMES
    from workers.activities import definitions
    from workers.messages.consent import (
        BatchConfirmation,
        ConsentBatch,
        ConsentSystemBatch,
        ConsentSystemOutcome,
        SystemShare,
    )

RESEND_AFTER = timedelta(minutes=10)  # an asynchronous tool silent this long gets the batch again
# Batches started from here on: the changes come recorded by the intake (when the batch says
# so), and a system's final answer is recorded by the activity that acted (act_on_consent_batch):
# two activities fewer per batch and system on the way to the evidence.
ACT_AND_RECORD = "consent-batch-act-and-record"


@workflow.defn(name="ConsentBatchWorkflow")
class ConsentBatchWorkflow:
    def __init__(self) -> None:
        self._answers: dict[str, BatchConfirmation] = {}
        self._act_and_record = False

    @workflow.run
    async def run(self, batch: ConsentBatch) -> dict[str, str]:
        self._act_and_record = workflow.patched(ACT_AND_RECORD)
        if not (self._act_and_record and batch.recorded):
            await workflow.execute_activity(
                definitions.record_consent_batch,
                batch,
                start_to_close_timeout=timedelta(seconds=60),
                retry_policy=LEDGER_RETRY,
            )
        outcomes = await asyncio.gather(*(self._system(batch, share) for share in batch.systems))
        await workflow.wait_condition(workflow.all_handlers_finished)
        return {share.step.system: outcome for share, outcome in zip(batch.systems, outcomes, strict=True)}

    async def _system(self, batch: ConsentBatch, share: SystemShare) -> str:
        system = share.step.system
        work = ConsentSystemBatch(batch.batch_id, batch.tenant, share.step, share.entry_indexes)
        outcome = await self._apply(work)
        while outcome.outcome == "pending":
            with contextlib.suppress(TimeoutError):
                await workflow.wait_condition(lambda: system in self._answers, timeout=RESEND_AFTER)
            answer = self._answers.get(system)
            if answer is None:
                outcome = await self._apply(work)  # re-sent: the task id is the same
                continue
            evidence = dict(answer.evidence)
            if answer.reason:
                evidence["reason"] = answer.reason
            outcome = ConsentSystemOutcome(
                batch.batch_id, batch.tenant, system, answer.outcome, answer.at, share.entry_indexes, evidence
            )
        if outcome.recorded:  # kept by the activity that acted
            return outcome.outcome
        await workflow.execute_activity(
            definitions.record_consent_outcome,
            outcome,
            start_to_close_timeout=timedelta(seconds=60),
            retry_policy=LEDGER_RETRY,
        )
        return outcome.outcome

    async def _apply(self, work: ConsentSystemBatch) -> ConsentSystemOutcome:
        """The system acts on the batch (first time or re-sent); a failure no retry mends is
        its outcome, so the other systems' outcomes are still recorded."""
        try:
            return await workflow.execute_activity(
                definitions.act_on_consent_batch if self._act_and_record else definitions.apply_consent_batch,
                work,
                start_to_close_timeout=timedelta(seconds=120),
                retry_policy=CONNECTOR_RETRY,
            )
        except ActivityError as err:
            return ConsentSystemOutcome(
                work.batch_id, work.tenant, work.step.system, "failed", workflow.now().isoformat(),
                work.entry_indexes, evidence={"error": str(err.cause or err)},
            )  # fmt: skip

    @workflow.signal
    def confirm_system(self, answer: BatchConfirmation) -> None:
        """First final answer per system wins; duplicates and late repeats change nothing."""
        if answer.system not in self._answers and answer.outcome in FINAL_OUTCOMES:
            self._answers[answer.system] = answer
