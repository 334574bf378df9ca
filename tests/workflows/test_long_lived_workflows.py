"""Workflows that wait long or lose a child, and the second identity factor: the real code on a
real Temporal dev server with stub activities."""

from __future__ import annotations

import dataclasses
from typing import Any

from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowHandle

from orchestrator.workflows.identity_checks import SECOND_FACTOR_REASON
from orchestrator.workflows.models import (
    OperatorDecision,
    PartnerStatusUpdate,
    RequestState,
    RetrySignal,
    SystemTaskState,
    system_workflow_id,
)
from orchestrator.workflows.request import RequestWorkflow
from orchestrator.workflows.system_task import CONTINUE_AS_NEW_PATCH, SystemTaskWorkflow
from tests.workflows.support import (
    Harness,
    SystemScript,
    eventually,
    now,
    request_input,
    result,
    step,
    task_input,
)
from workers.activities import definitions
from workers.messages.requests import SystemResult, SystemTaskInput


def partner_task(poll_every: str = "PT1S") -> SystemTaskInput:
    task = task_input("partner", "erase")
    partner_step = dataclasses.replace(
        step("partner", "erase"), connector={"kind": "opendsr", "poll_every": poll_every}
    )
    return dataclasses.replace(task, step=partner_step)


async def system_state(handle: WorkflowHandle[Any, Any]) -> SystemTaskState:
    value: SystemTaskState = await handle.query(SystemTaskWorkflow.state)
    return value


async def request_state(handle: WorkflowHandle[Any, Any]) -> RequestState:
    value: RequestState = await handle.query(RequestWorkflow.state)
    return value


# -- continue-as-new -----------------------------------------------------------------------------
async def test_a_partner_polled_for_long_continues_as_new_carrying_its_state(harness: Harness) -> None:
    acts = harness.activities
    acts.systems["partner"] = SystemScript("pending", signed_callbacks=True, partner_request_id="srq-9")
    task = partner_task()
    handle = await harness.client.start_workflow(
        SystemTaskWorkflow.run,
        dataclasses.replace(task, resume={"history_limit": 25}),  # months of hourly polls, in seconds
        id=system_workflow_id(task.request_id, "partner"),
        task_queue=harness.task_queue,
    )
    first_run = handle.result_run_id
    await eventually(lambda: len(acts.args(definitions.apply_system_action)) >= 1)
    await handle.signal(SystemTaskWorkflow.remind)

    async def continued() -> bool:
        return (await system_state(handle)).runs_continued >= 1

    await eventually(continued, "the system's workflow to continue as new")
    carried = await system_state(handle)
    assert carried.partner_request_id == "srq-9"
    assert carried.signed_callbacks is True
    assert carried.reminders == 1
    assert carried.confirmation is None

    # The partner's signed callback reaches the new run by the same workflow id and settles it.
    completed = PartnerStatusUpdate("srq-9", "completed", now().isoformat(), {"partner": "p"})
    assert await handle.execute_update(SystemTaskWorkflow.partner_status, completed) == "erased"
    final: SystemResult = await result(handle)
    assert final.outcome == "erased"

    first = await harness.client.get_workflow_handle(handle.id, run_id=first_run).fetch_history()
    events = [e.event_type for e in first.events]
    assert events[-1] == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW
    markers = [e for e in first.events if e.event_type == EventType.EVENT_TYPE_MARKER_RECORDED]
    assert any(CONTINUE_AS_NEW_PATCH.encode() in e.SerializeToString() for e in markers)
    # Each run kept its history short: the first stopped at its limit, not after months.
    assert len(first.events) < 60


# -- a child that never answers ------------------------------------------------------------------
async def test_a_terminated_system_is_recorded_failed_and_started_again_on_retry(harness: Harness) -> None:
    acts = harness.activities
    acts.systems["warehouse"] = SystemScript("pending")
    request = request_input("erasure", ("crm", "warehouse"))
    handle = await harness.start_request(request)
    child = harness.client.get_workflow_handle(system_workflow_id(request.request_id, "warehouse"))
    await eventually(
        lambda: "warehouse" in [t.step.system for t in acts.args(definitions.apply_system_action)]
    )

    await child.terminate(reason="stuck, terminated from the UI")

    def lost_recorded() -> bool:
        return any(
            g.result.system == "warehouse" and g.result.outcome == "failed"
            for g in acts.args(definitions.record_system_outcome)
        )

    await eventually(lost_recorded, "the lost system to be recorded failed")
    [lost] = [
        g.result for g in acts.args(definitions.record_system_outcome) if g.result.system == "warehouse"
    ]
    assert "TerminatedError" in (lost.error or "") and "retry" in (lost.error or "")
    await eventually(
        lambda: any(a.pending_systems == ["warehouse"] for a in acts.args(definitions.alert_operator))
    )
    waiting = await request_state(handle)
    assert waiting.status == "in_progress"
    assert waiting.results["warehouse"].outcome == "failed"

    acts.systems["warehouse"] = SystemScript()  # it answers at once this time
    await handle.signal(
        RequestWorkflow.retry_system, RetrySignal("restarted after the incident", "warehouse")
    )
    outcome = await result(handle)

    assert outcome.status == "completed"
    assert outcome.outcomes == {"crm": "erased", "warehouse": "erased"}


# -- second identity factor ----------------------------------------------------------------------
async def test_one_identity_with_a_second_factor_rule_is_checked_then_waits_for_an_operator(
    harness: Harness,
) -> None:
    acts = harness.activities
    request = request_input(
        "erasure", ("crm",), identity_match_step=step("crm", "match"), second_factor_required=True
    )
    handle = await harness.start_request(request)

    async def awaiting() -> bool:
        return (await request_state(handle)).status == "awaiting_verification"

    await eventually(awaiting, "the request to wait for verification")
    assert len(acts.args(definitions.match_identities)) == 1  # the one identity was checked
    assert (await request_state(handle)).reason == SECOND_FACTOR_REASON
    assert not acts.args(definitions.apply_system_action)

    await handle.execute_update(
        RequestWorkflow.verify, OperatorDecision("dpo@test", "approve", "called back")
    )
    assert (await result(handle)).outcomes == {"crm": "erased"}


async def test_one_identity_without_a_second_factor_rule_runs_at_once(harness: Harness) -> None:
    acts = harness.activities
    request = request_input("erasure", ("crm",), identity_match_step=step("crm", "match"))
    outcome = await result(await harness.start_request(request))
    assert outcome.status == "completed"
    assert not acts.args(definitions.match_identities)  # one identity: nothing to compare
