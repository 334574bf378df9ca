"""ConsentBatchWorkflow, the real code on a real Temporal dev server, with stub activities."""

from __future__ import annotations

import uuid

from temporalio.client import WorkflowExecutionStatus

from orchestrator.workflows.consent_batch import ConsentBatchWorkflow
from orchestrator.workflows.models import consent_workflow_id
from tests.workflows.support import Harness, eventually, now, result, settle, step
from workers.activities import definitions
from workers.messages.consent import BatchConfirmation, ConsentBatch, SystemShare


async def test_batch_ends_with_every_systems_answer(harness: Harness) -> None:
    acts = harness.activities
    acts.consent["mailer"] = "pending"  # answers later, on Kafka
    batch = ConsentBatch(
        batch_id=str(uuid.uuid4()),
        tenant="testco",
        changes=3,
        systems=[
            SystemShare(step("crm", "stop_processing"), [0, 1, 2]),
            SystemShare(step("mailer", "stop_processing"), [0, 2]),
        ],
    )
    handle = await harness.client.start_workflow(
        ConsentBatchWorkflow.run, batch, id=consent_workflow_id(batch.batch_id), task_queue=harness.task_queue
    )
    await eventually(lambda: len(acts.args(definitions.record_consent_outcome)) == 1)
    await settle(handle)
    [crm] = acts.args(definitions.record_consent_outcome)
    assert (crm.system, crm.outcome, crm.entry_indexes) == ("crm", "consent_withdrawn", [0, 1, 2])

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
    assert [b.batch_id for b in acts.args(definitions.record_consent_batch)] == [batch.batch_id]
    recorded = {o.system: o for o in acts.args(definitions.record_consent_outcome)}
    assert sorted(o.system for o in acts.args(definitions.record_consent_outcome)) == ["crm", "mailer"]
    assert recorded["mailer"].entry_indexes == [0, 2]
    assert recorded["mailer"].evidence == {"job": "J-7"}
    assert sorted(w.step.system for w in acts.args(definitions.apply_consent_batch)) == ["crm", "mailer"]
