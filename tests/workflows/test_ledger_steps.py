"""Bookkeeping steps (status writes, look-ups, outcomes kept) run as local activities: the only
activity tasks an erasure puts through the Temporal server are the connectors' own work."""

from __future__ import annotations

from collections import Counter
from typing import Any

from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowHandle

from orchestrator.workflows.ledger_steps import LEDGER_STEPS, LOCAL_LEDGER_PATCH
from orchestrator.workflows.models import ConfirmationSignal, system_workflow_id
from orchestrator.workflows.system_task import SystemTaskWorkflow
from tests.workflows.support import (
    Harness,
    SystemScript,
    eventually,
    now,
    request_input,
    result,
    settle,
)
from workers.activities import definitions
from workers.activities.definitions import name_of


async def _scheduled_and_markers(handle: WorkflowHandle[Any, Any]) -> tuple[list[str], Counter[str]]:
    """Activity types scheduled through the server, and markers (patches by their id), in one
    run's history."""
    history = await handle.fetch_history()
    scheduled: list[str] = []
    markers: Counter[str] = Counter()
    for event in history.events:
        if event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
            scheduled.append(event.activity_task_scheduled_event_attributes.activity_type.name)
        elif event.event_type == EventType.EVENT_TYPE_MARKER_RECORDED:
            marker = event.marker_recorded_event_attributes
            patch = marker.details.get("patch-data")
            markers[patch.payloads[0].data.decode() if patch else marker.marker_name] += 1
    return scheduled, markers


async def test_an_erasure_schedules_only_connector_actions_through_the_server(harness: Harness) -> None:
    acts = harness.activities
    acts.systems["warehouse"] = SystemScript("pending")  # answers later: its outcome is kept on confirm
    request = request_input("erasure", ("crm", "warehouse"))
    handle = await harness.start_request(request)
    warehouse = harness.client.get_workflow_handle(system_workflow_id(request.request_id, "warehouse"))
    await eventually(lambda: len(acts.args(definitions.apply_system_action)) == 2)
    await settle(warehouse)
    await warehouse.signal(SystemTaskWorkflow.confirm, ConfirmationSignal("erased", now().isoformat()))
    outcome = await result(handle)
    assert outcome.status == "completed"

    # The request's own steps (in_progress, duplicate and hold look-ups, purge, completed) ran,
    # each as a local activity: markers in its history, no activity task.
    scheduled, markers = await _scheduled_and_markers(handle)
    assert scheduled == [name_of(definitions.resolve_identities)]  # the identity sources: a connector's
    statuses = [change.status for change in acts.args(definitions.record_request_status)]
    assert statuses == ["in_progress", "completed"]
    assert markers["core_local_activity"] >= 5
    assert [m for m in markers if LOCAL_LEDGER_PATCH in m] != []  # decided once, at the first step
    # Each system's workflow: the connector's action through the server; its outcome kept locally.
    for system in ("crm", "warehouse"):
        child = harness.client.get_workflow_handle(system_workflow_id(request.request_id, system))
        scheduled, markers = await _scheduled_and_markers(child)
        assert scheduled == [name_of(definitions.apply_system_action)], system
        assert not {name_of(stub) for stub in LEDGER_STEPS} & set(scheduled)
    assert markers["core_local_activity"] >= 1  # the warehouse's confirmation, recorded
    assert {g.result.system for g in acts.args(definitions.record_system_outcome)} == {"warehouse"}
