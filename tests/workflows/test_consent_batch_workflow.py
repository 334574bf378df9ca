"""ConsentBatchWorkflow, the real code on a real Temporal dev server, with stub activities."""

from __future__ import annotations

import uuid

from temporalio.client import WorkflowExecutionStatus

from orchestrator.workflows.consent_batch import ConsentBatchWorkflow
from orchestrator.workflows.models import consent_workflow_id
from tests.workflows.support import Harness, eventually, now, result, settle, step
from workers.activities import definitions
from workers.messages.consent import BatchConfirmation, ConsentBatch, SystemShare


def _batch(recorded: bool = True) -> ConsentBatch:
    return ConsentBatch(
        batch_id=str(uuid.uuid4()),
        tenant="testco",
        changes=3,
        systems=[
            SystemShare(step("crm", "stop_processing"), [0, 1, 2]),
            SystemShare(step("mailer", "stop_processing"), [0, 2]),
        ],
        recorded=recorded,
    )


async def test_batch_ends_with_every_systems_answer(harness: Harness) -> None:
    acts = harness.activities
    acts.consent["mailer"] = "pending"  # answers later, on Kafka
    batch = _batch()
    handle = await harness.client.start_workflow(
        ConsentBatchWorkflow.run, batch, id=consent_workflow_id(batch.batch_id), task_queue=harness.task_queue
    )
    await eventually(lambda: len(acts.args(definitions.act_on_consent_batch)) == 2)
    await settle(handle)
    acted = {w.step.system: w for w in acts.args(definitions.act_on_consent_batch)}
    assert acted["crm"].entry_indexes == [0, 1, 2] and acted["mailer"].entry_indexes == [0, 2]
    # The intake recorded the changes; the SQL system's evidence was kept by the activity that acted.
    assert acts.args(definitions.record_consent_batch) == []
    assert acts.args(definitions.record_consent_outcome) == []

    # A non-final answer changes nothing.
    await handle.signal(
        ConsentBatchWorkflow.confirm_system, BatchConfirmation("mailer", "pending", now().isoformat())
    )
    await settle(handle)
    assert (await handle.describe()).status == WorkflowExecutionStatus.RUNNING

    answer = BatchConfirmation("mailer", "consent_withdrawn", now().isoformat(), {"job": "J-7"}, reason=None)
    await handle.signal(ConsentBatchWorkflow.confirm_system, answer)
    outcomes = await result(handle)

    assert outcomes == {"crm": "consent_withdrawn", "mailer": "consent_withdrawn"}
    [mailer] = acts.args(definitions.record_consent_outcome)
    assert (mailer.system, mailer.outcome, mailer.entry_indexes) == ("mailer", "consent_withdrawn", [0, 2])
    assert mailer.evidence == {"job": "J-7"}
    assert acts.args(definitions.apply_consent_batch) == []


async def test_changes_not_recorded_by_the_intake_are_recorded_first(harness: Harness) -> None:
    acts = harness.activities
    batch = _batch(recorded=False)  # a batch kept by an intake of an earlier release
    handle = await harness.client.start_workflow(
        ConsentBatchWorkflow.run, batch, id=consent_workflow_id(batch.batch_id), task_queue=harness.task_queue
    )
    assert await result(handle) == {"crm": "consent_withdrawn", "mailer": "consent_withdrawn"}
    assert [b.batch_id for b in acts.args(definitions.record_consent_batch)] == [batch.batch_id]
    first_act = min(c.at for c in acts.called(definitions.act_on_consent_batch))
    assert acts.called(definitions.record_consent_batch)[0].at <= first_act


async def test_a_system_that_fails_for_good_is_recorded_failed_and_the_others_still_answer(
    harness: Harness,
) -> None:
    acts = harness.activities
    acts.consent["mailer"] = "broken"
    batch = _batch()
    handle = await harness.client.start_workflow(
        ConsentBatchWorkflow.run, batch, id=consent_workflow_id(batch.batch_id), task_queue=harness.task_queue
    )
    assert await result(handle) == {"crm": "consent_withdrawn", "mailer": "failed"}
    [failed] = acts.args(definitions.record_consent_outcome)
    assert (failed.system, failed.outcome, failed.entry_indexes) == ("mailer", "failed", [0, 2])
    assert "the pack is broken" in failed.evidence["error"]
