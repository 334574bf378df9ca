"""Systems that answer in the call are acted on by the request workflow itself (no child
workflow): the same answers, evidence, failures and operator retries as through a child, and a
child still for every system that answers later (issue 13)."""

from __future__ import annotations

from typing import Any

from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowExecutionStatus, WorkflowHandle

from orchestrator.workflows.models import ConfirmationSignal, RequestInput, RetrySignal, system_workflow_id
from orchestrator.workflows.request import RequestWorkflow
from orchestrator.workflows.retention import retention_workflow_id
from orchestrator.workflows.system_task import SystemTaskWorkflow
from tests.workflows.support import (
    Harness,
    SystemScript,
    eventually,
    iso_in,
    now,
    request_input,
    result,
    settle,
)
from workers.activities import definitions


def answering_now(request: RequestInput, *systems: str) -> RequestInput:
    """Mark the named systems as the intake marks sql, files and http systems."""
    for step in request.steps:
        if step.system in systems:
            step.answers_later = False
    return request


async def children_started(handle: WorkflowHandle[Any, Any]) -> list[str]:
    """The ids of the child workflows the request started, from its history."""
    history = await handle.fetch_history()
    started = EventType.EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_INITIATED
    return [
        event.start_child_workflow_execution_initiated_event_attributes.workflow_id
        for event in history.events
        if event.event_type == started
    ]


async def test_systems_answering_now_are_acted_on_without_a_child(harness: Harness) -> None:
    acts = harness.activities
    acts.systems["warehouse"] = SystemScript("pending")
    request = answering_now(request_input("erasure", ("crm", "billing", "warehouse")), "crm", "billing")
    handle = await harness.start_request(request)
    warehouse = harness.client.get_workflow_handle(system_workflow_id(request.request_id, "warehouse"))
    await eventually(lambda: len(acts.args(definitions.apply_system_action)) == 3)
    await settle(warehouse)
    await warehouse.signal(SystemTaskWorkflow.confirm, ConfirmationSignal("erased", now().isoformat()))

    outcome = await result(handle)

    assert outcome.status == "completed"
    assert outcome.outcomes == {"crm": "erased", "billing": "erased", "warehouse": "erased"}
    # Only the system that answers later has a workflow of its own.
    assert await children_started(handle) == [system_workflow_id(request.request_id, "warehouse")]
    acted = sorted(task.step.system for task in acts.args(definitions.apply_system_action))
    assert acted == ["billing", "crm", "warehouse"]  # each acted on once
    # The direct answers were kept by the connector activity itself, the late one recorded.
    assert [g.result.system for g in acts.args(definitions.record_system_outcome)] == ["warehouse"]


async def test_a_failed_system_waits_for_the_operator_retry_on_the_request(harness: Harness) -> None:
    acts = harness.activities
    acts.systems["crm"] = SystemScript(fail_first=1)
    request = answering_now(request_input("erasure", ("crm",)), "crm")
    handle = await harness.start_request(request)

    await eventually(lambda: bool(acts.args(definitions.record_system_outcome)))
    await settle(handle)
    [failure] = [g.result for g in acts.args(definitions.record_system_outcome)]
    assert (failure.system, failure.outcome) == ("crm", "failed")
    assert "the pack is broken" in (failure.error or "")
    assert (await handle.describe()).status == WorkflowExecutionStatus.RUNNING
    # A retry for another system does not wake it.
    await handle.signal(RequestWorkflow.retry_system, RetrySignal("wrong system", "billing"))
    await settle(handle)
    assert [t.step.system for t in acts.args(definitions.apply_system_action)] == ["crm"]

    # ``privacyctl retry`` asks the request's workflow when the system has none of its own.
    await handle.signal(RequestWorkflow.retry_system, RetrySignal("pack fixed", "crm"))
    outcome = await result(handle)

    assert outcome.outcomes == {"crm": "erased"}
    assert [t.step.system for t in acts.args(definitions.apply_system_action)] == ["crm", "crm"]
    assert await children_started(handle) == []


async def test_what_a_system_retains_is_erased_when_its_period_ends(harness: Harness) -> None:
    acts = harness.activities
    acts.systems["calls"] = SystemScript("retained", retained_until=iso_in(1))
    request = answering_now(request_input("erasure", ("calls",)), "calls")
    handle = await harness.start_request(request)

    outcome = await result(handle)

    assert outcome.outcomes == {"calls": "retained"}
    expiry = harness.client.get_workflow_handle(retention_workflow_id(request.request_id, "calls"))
    await result(expiry)
    [erased] = acts.args(definitions.erase_after_retention)
    assert erased.step.system == "calls"


async def test_a_system_answering_later_against_its_kind_is_waited_for_without_acting_again(
    harness: Harness,
) -> None:
    acts = harness.activities
    acts.systems["crm"] = SystemScript("pending")
    request = answering_now(request_input("erasure", ("crm",)), "crm")
    handle = await harness.start_request(request)
    child = harness.client.get_workflow_handle(system_workflow_id(request.request_id, "crm"))
    await eventually(lambda: bool(acts.args(definitions.apply_system_action)))
    await eventually(lambda: children_started_now(handle))
    await settle(child)

    await child.signal(SystemTaskWorkflow.confirm, ConfirmationSignal("erased", now().isoformat()))
    outcome = await result(handle)

    assert outcome.outcomes == {"crm": "erased"}
    assert len(acts.args(definitions.apply_system_action)) == 1  # its workflow resumed the wait


async def children_started_now(handle: WorkflowHandle[Any, Any]) -> bool:
    return bool(await children_started(handle))
