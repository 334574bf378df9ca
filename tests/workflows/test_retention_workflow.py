"""RetentionExpiryWorkflow, the real code on a real Temporal dev server, with stub activities:
erase once the retention period ends, wait again when a record is kept longer."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from temporalio.client import WorkflowHandle

from orchestrator.workflows.retention import RetentionExpiryWorkflow, retention_workflow_id
from tests.workflows.support import (
    Harness,
    SystemScript,
    iso_in,
    request_input,
    result,
    step,
    task_input,
)
from workers.activities import definitions
from workers.messages.requests import SystemResult


async def test_erases_after_retention_and_waits_again_when_kept_longer(harness: Harness) -> None:
    acts = harness.activities
    task = task_input("calls", "retain", "erasure")
    first_until = iso_in(1)
    later_until = iso_in(2)
    acts.retention = [SystemResult("calls", "retain", "retained", None, retained_until=later_until)]
    handle = await harness.client.start_workflow(
        RetentionExpiryWorkflow.run,
        args=[task, first_until],
        id=retention_workflow_id(task.request_id, "calls"),
        task_queue=harness.task_queue,
    )

    final: SystemResult = await result(handle)

    assert final.outcome == "erased"
    calls = acts.called(definitions.erase_after_retention)
    assert len(calls) == 2
    assert calls[0].at >= datetime.fromisoformat(first_until)
    assert calls[1].at >= datetime.fromisoformat(later_until)
    assert all(c.arg.request_id == task.request_id for c in calls)


async def test_system_retaining_recent_records_starts_detached_erasure(harness: Harness) -> None:
    """A system answering ``retained`` for a keep_recent rule closes the request as retained;
    the detached retention workflow erases later."""
    acts = harness.activities
    until = iso_in(1.5)
    acts.systems["calls"] = SystemScript("retained", retained_until=until)
    request = request_input("erasure", ())
    request.steps = [step("crm", "erase"), step("calls", "retain", keep_recent=True)]
    handle = await harness.start_request(request)

    outcome = await result(handle)
    assert outcome.status == "completed"
    assert outcome.outcomes == {"crm": "erased", "calls": "retained"}

    retention: WorkflowHandle[Any, SystemResult] = harness.client.get_workflow_handle(
        retention_workflow_id(request.request_id, "calls"), result_type=SystemResult
    )
    erased: SystemResult = await result(retention)
    assert erased.outcome == "erased"
    [call] = acts.called(definitions.erase_after_retention)
    assert call.at >= datetime.fromisoformat(until)
    assert call.arg.step.system == "calls"
