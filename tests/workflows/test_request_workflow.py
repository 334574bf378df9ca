"""RequestWorkflow and SystemTaskWorkflow, the real code on a real Temporal dev server, with stub
activities: the gates of each request type, operator Updates and their validators, late answers,
escalation, cancellation and partner callbacks."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from temporalio.client import WorkflowExecutionStatus, WorkflowHandle, WorkflowUpdateFailedError

from orchestrator.workflows import search
from orchestrator.workflows.models import (
    ConfirmationSignal,
    OperatorDecision,
    PartnerStatusUpdate,
    RequestState,
    RetrySignal,
    system_workflow_id,
)
from orchestrator.workflows.request import RequestWorkflow
from orchestrator.workflows.system_task import SystemTaskWorkflow
from schemas.vocabulary import PARTNER_CANCELLED_REASON, REQUEST_TYPES, done_outcome, partner_outcome
from tests.workflows.support import (
    ACTION_FOR,
    Activities,
    Harness,
    SystemScript,
    eventually,
    iso_in,
    now,
    request_input,
    result,
    settle,
    task_input,
)
from workers.activities import definitions
from workers.activities.definitions import STUBS, name_of
from workers.messages.requests import LegalHold, SystemResult

DPO = "dpo@test"


def statuses(activities: Activities) -> list[str]:
    return [change.status for change in activities.args(definitions.record_request_status)]


def systems_acted(activities: Activities) -> list[str]:
    return [task.step.system for task in activities.args(definitions.apply_system_action)]


async def state(handle: WorkflowHandle[Any, Any]) -> RequestState:
    value: RequestState = await handle.query(RequestWorkflow.state)
    return value


async def update_refused(call: Any) -> str:
    """The message an Update validator refused with."""
    with pytest.raises(WorkflowUpdateFailedError) as refused:
        await call
    return str(refused.value.cause)


def system_handle(harness: Harness, request_id: str, system: str) -> WorkflowHandle[Any, SystemResult]:
    return harness.client.get_workflow_handle_for(
        SystemTaskWorkflow.run, system_workflow_id(request_id, system)
    )


def test_every_activity_stub_has_a_test_double() -> None:
    """The stubs here answer every activity a workflow can call, under the same names."""
    doubles = {name_of(fn) for fn in Activities().all()}
    assert doubles == {name_of(stub) for stub in STUBS}


# -- the plain path and the per-type table ----------------------------------------------------
async def test_erasure_with_every_system_answering_now_completes(harness: Harness) -> None:
    acts = harness.activities
    request = request_input("erasure", ("crm", "billing"), receipt_due_at=iso_in(86400))
    handle = await harness.start_request(request)

    outcome = await result(handle)

    assert outcome.status == "completed"
    assert outcome.outcomes == {"crm": "erased", "billing": "erased"}
    assert [c.status for c in acts.args(definitions.acknowledge_receipt)] == ["received"]
    assert statuses(acts) == ["in_progress", "completed"]
    assert len(acts.args(definitions.legal_holds_for)) == 1  # erasure is held by legal holds
    assert sorted(systems_acted(acts)) == ["billing", "crm"]
    assert not acts.args(definitions.compile_report)
    assert not acts.args(definitions.count_previous_copies)
    assert not acts.args(definitions.record_system_outcome)  # synchronous answers are the connector's
    description = await handle.describe()
    assert description.typed_search_attributes.get(search.STATUS) == "completed"


@pytest.mark.parametrize("request_type", sorted(REQUEST_TYPES))
async def test_every_request_type_runs_through_its_gates(harness: Harness, request_type: str) -> None:
    """Each row of the table, with one synchronous system: completed, and exactly its gates run."""
    acts = harness.activities
    gates = REQUEST_TYPES[request_type]
    request = request_input(
        request_type,
        ("crm",),
        free_copies=1,
        details={"purposes": ["marketing.communications"]},  # absolute: an objection needs no decision
        absolute_objection_purposes=["marketing.communications"],
    )
    handle = await harness.start_request(request)

    outcome = await result(handle)

    assert outcome.status == "completed"
    assert outcome.outcomes == {"crm": done_outcome(ACTION_FOR.get(request_type, "notify"), request_type)}
    assert statuses(acts) == ["in_progress", "completed"]
    assert bool(acts.args(definitions.legal_holds_for)) == gates.held_by_legal_holds
    assert bool(acts.args(definitions.count_previous_copies)) == gates.charged_after_free_copies
    assert bool(acts.args(definitions.compile_report)) == gates.compiles_report
    assert not acts.args(definitions.transfer_export)  # no destination given


async def test_request_without_steps_is_rejected(harness: Harness) -> None:
    handle = await harness.start_request(request_input("erasure", ()))
    outcome = await result(handle)
    assert outcome.status == "rejected"
    assert statuses(harness.activities) == ["in_progress", "rejected"]
    assert "no rule" in (harness.activities.args(definitions.record_request_status)[-1].reason or "")


# -- legal holds --------------------------------------------------------------------------------
async def test_erasure_waits_for_legal_hold_release(harness: Harness) -> None:
    acts = harness.activities
    acts.holds = [LegalHold("hold-1", "pending litigation", DPO, now().isoformat())]
    handle = await harness.start_request(request_input("erasure", ("crm",)))

    await eventually(lambda: any("on_hold" in c.flags for c in acts.args(definitions.record_request_status)))
    await settle(handle)
    held = await state(handle)
    assert held.status == "in_progress"
    assert held.flags == ["on_hold"]
    assert "pending litigation" in (held.reason or "")
    assert not systems_acted(acts)

    # Released while another hold is still active: checked again, still held.
    await handle.signal(RequestWorkflow.hold_released)
    await eventually(lambda: len(acts.args(definitions.legal_holds_for)) == 2)
    await settle(handle)
    assert (await state(handle)).flags == ["on_hold"]
    assert not systems_acted(acts)

    acts.holds = []
    await handle.signal(RequestWorkflow.hold_released)
    outcome = await result(handle)

    assert outcome.status == "completed"
    assert outcome.outcomes == {"crm": "erased"}
    assert len(acts.args(definitions.legal_holds_for)) == 3
    changes = acts.args(definitions.record_request_status)
    assert changes[-1].status == "completed"
    assert changes[-1].flags == []


async def test_hold_release_during_status_recording_is_not_lost(harness: Harness) -> None:
    acts = harness.activities
    acts.holds = [LegalHold("hold-1", "pending litigation", DPO, now().isoformat())]
    recording = acts.block(definitions.record_request_status, lambda change: "on_hold" in change.flags)
    handle = await harness.start_request(request_input("erasure", ("crm",)))
    await eventually(lambda: any("on_hold" in c.flags for c in acts.args(definitions.record_request_status)))

    acts.holds = []
    await handle.signal(RequestWorkflow.hold_released)  # while record_request_status(on_hold) runs
    recording.set()
    await settle(handle)

    assert "on_hold" not in (await state(handle)).flags
    assert (await result(handle)).status == "completed"


# -- access: fee rule and report -------------------------------------------------------------
@pytest.mark.parametrize(("previous", "free", "charged"), [(0, 1, False), (1, 1, True), (3, 2, True)])
async def test_access_fee_rule(harness: Harness, previous: int, free: int, charged: bool) -> None:
    acts = harness.activities
    acts.previous_copies = previous
    handle = await harness.start_request(request_input("access", ("crm", "billing"), free_copies=free))

    outcome = await result(handle)

    assert outcome.status == "completed"
    assert outcome.outcomes == {"crm": "exported", "billing": "exported"}
    assert len(acts.args(definitions.count_previous_copies)) == 1
    assert ("fee_applicable" in acts.args(definitions.record_request_status)[-1].flags) == charged
    reports = acts.args(definitions.compile_report)
    assert len(reports) == 1
    assert [s.system for s in reports[0].steps] == ["crm", "billing"]
    assert not acts.args(definitions.legal_holds_for)  # access is not held by legal holds


async def test_access_without_fee_rule_counts_no_copies(harness: Harness) -> None:
    acts = harness.activities
    outcome = await result(await harness.start_request(request_input("access", ("crm",))))
    assert outcome.status == "completed"
    assert not acts.args(definitions.count_previous_copies)
    assert len(acts.args(definitions.compile_report)) == 1


# -- portability transfers --------------------------------------------------------------------
async def test_portability_transfers_to_named_destination(harness: Harness) -> None:
    acts = harness.activities
    destination = {"name": "NewCo", "url": "https://newco.example/import", "country": "FR"}
    request = request_input("portability", ("crm",), details={"destination": destination})

    outcome = await result(await harness.start_request(request))

    assert outcome.status == "completed"
    assert outcome.outcomes == {"crm": "exported", "transfer": "exported"}
    assert [t.destination for t in acts.args(definitions.transfer_export)] == [destination]
    assert len(acts.args(definitions.compile_report)) == 1


async def test_portability_to_forbidden_country_is_refused_without_transfer(harness: Harness) -> None:
    acts = harness.activities
    destination = {"name": "FarCo", "url": "https://farco.example/import", "country": "us"}
    request = request_input(
        "portability",
        ("crm",),
        details={"destination": destination},
        transfer_countries=["FR", "DE"],
        transfer_rule="personal data stays in the EU",
    )

    outcome = await result(await harness.start_request(request))

    assert outcome.status == "completed"
    assert outcome.outcomes == {"crm": "exported", "transfer": "refused"}
    assert not acts.args(definitions.transfer_export)
    [refusal] = [g.result for g in acts.args(definitions.record_system_outcome)]
    assert (refusal.system, refusal.outcome) == ("transfer", "refused")
    assert "US" in (refusal.error or "")
    assert refusal.evidence["destination"] == "FarCo"


# -- objections ---------------------------------------------------------------------------------
async def test_objection_to_absolute_purpose_needs_no_decision(harness: Harness) -> None:
    request = request_input(
        "objection",
        ("crm", "mailer"),
        details={"purposes": ["marketing.communications"]},
        absolute_objection_purposes=["marketing.communications"],
    )
    outcome = await result(await harness.start_request(request))
    assert outcome.status == "completed"
    assert outcome.outcomes == {"crm": "processing_stopped", "mailer": "processing_stopped"}


async def _objection_awaiting_decision(harness: Harness) -> WorkflowHandle[Any, Any]:
    request = request_input(
        "objection",
        ("crm", "mailer"),
        details={"purposes": ["marketing.communications", "personalize.profiling"]},  # not all absolute
        absolute_objection_purposes=["marketing.communications"],
    )
    handle = await harness.start_request(request)
    await eventually(lambda: bool(harness.activities.args(definitions.record_request_status)))
    await settle(handle)
    waiting = await state(handle)
    assert waiting.status == "in_progress"
    assert "awaiting operator decision" in (waiting.reason or "")
    assert not systems_acted(harness.activities)
    return handle


async def test_objection_refused_by_operator_refuses_every_system(harness: Harness) -> None:
    acts = harness.activities
    handle = await _objection_awaiting_decision(harness)

    no_reason = handle.execute_update(RequestWorkflow.decide_objection, OperatorDecision(DPO, "refuse", " "))
    assert "needs its reasons" in await update_refused(no_reason)
    bad = handle.execute_update(RequestWorkflow.decide_objection, OperatorDecision(DPO, "maybe", "hmm"))
    assert "accept or refuse" in await update_refused(bad)

    decision = OperatorDecision(DPO, "refuse", "compelling legitimate grounds")
    answered: RequestState = await handle.execute_update(RequestWorkflow.decide_objection, decision)
    assert answered.objection == decision
    outcome = await result(handle)

    assert outcome.status == "completed"
    assert outcome.outcomes == {"crm": "refused", "mailer": "refused"}
    refusals = [g.result for g in acts.args(definitions.record_system_outcome)]
    assert sorted(r.system for r in refusals) == ["crm", "mailer"]
    assert {r.outcome for r in refusals} == {"refused"}
    assert {r.error for r in refusals} == {"compelling legitimate grounds"}
    assert not systems_acted(acts)
    assert "objection refused" in (acts.args(definitions.record_request_status)[-1].reason or "")


async def test_objection_accepted_by_operator_fans_out(harness: Harness) -> None:
    acts = harness.activities
    handle = await _objection_awaiting_decision(harness)

    await handle.execute_update(
        RequestWorkflow.decide_objection, OperatorDecision(DPO, "accept", "no grounds")
    )
    # Idempotent: a second decision changes nothing.
    await handle.execute_update(
        RequestWorkflow.decide_objection, OperatorDecision(DPO, "refuse", "changed mind")
    )
    outcome = await result(handle)

    assert outcome.status == "completed"
    assert outcome.outcomes == {"crm": "processing_stopped", "mailer": "processing_stopped"}
    assert sorted(systems_acted(acts)) == ["crm", "mailer"]
    assert not acts.args(definitions.record_system_outcome)


# -- verification -------------------------------------------------------------------------------
async def _awaiting_verification(harness: Harness) -> WorkflowHandle[Any, Any]:
    request = request_input("erasure", ("crm",), verification_reason="identity document to check")
    handle = await harness.start_request(request)
    await eventually(lambda: bool(harness.activities.args(definitions.record_request_status)))
    waiting = await state(handle)
    assert waiting.status == "awaiting_verification"
    assert waiting.reason == "identity document to check"
    return handle


async def test_verification_denied_rejects(harness: Harness) -> None:
    acts = harness.activities
    handle = await _awaiting_verification(harness)

    deny_without_reason = handle.execute_update(RequestWorkflow.verify, OperatorDecision(DPO, "deny", ""))
    assert "denial needs a reason" in await update_refused(deny_without_reason)
    not_an_objection = handle.execute_update(
        RequestWorkflow.decide_objection, OperatorDecision(DPO, "accept", "why not")
    )
    assert "not an objection" in await update_refused(not_an_objection)
    assert (await state(handle)).verification is None

    await handle.execute_update(
        RequestWorkflow.verify, OperatorDecision(DPO, "deny", "document does not match")
    )
    outcome = await result(handle)

    assert outcome.status == "rejected"
    assert outcome.outcomes == {}
    assert statuses(acts) == ["awaiting_verification", "rejected"]
    assert "document does not match" in (acts.args(definitions.record_request_status)[-1].reason or "")
    assert acts.args(definitions.discard_identity_document) == [outcome.request_id]
    assert not systems_acted(acts)


async def test_verification_approved_runs(harness: Harness) -> None:
    acts = harness.activities
    handle = await _awaiting_verification(harness)

    await handle.execute_update(RequestWorkflow.verify, OperatorDecision(DPO, "approve", ""))
    outcome = await result(handle)

    assert outcome.status == "completed"
    assert outcome.outcomes == {"crm": "erased"}
    assert statuses(acts) == ["awaiting_verification", "in_progress", "completed"]
    assert len(acts.args(definitions.discard_identity_document)) == 1


async def test_verify_refused_when_not_awaiting_verification(harness: Harness) -> None:
    harness.activities.systems["crm"] = SystemScript("pending")
    handle = await harness.start_request(request_input("erasure", ("crm",)))
    await eventually(lambda: bool(systems_acted(harness.activities)))
    approve = handle.execute_update(RequestWorkflow.verify, OperatorDecision(DPO, "approve", ""))
    assert "not awaiting verification" in await update_refused(approve)


# A person asked to verify with the controller (DRP need_user_verification) has until a time.
USER_VERIFICATION = {
    "verification_reason": "the person must verify their identity with the controller (not verified: email)"
}


async def test_a_person_who_never_verifies_is_denied_when_the_window_lapses(harness: Harness) -> None:
    acts = harness.activities
    request = request_input("erasure", ("crm",), user_verification_until=iso_in(2), **USER_VERIFICATION)
    handle = await harness.start_request(request)

    outcome = await result(handle)

    assert outcome.status == "rejected"
    assert statuses(acts) == ["awaiting_verification", "rejected"]
    reason = acts.args(definitions.record_request_status)[-1].reason or ""
    assert reason.startswith(
        "identity not verified: the person did not complete the identity verification by"
    )
    assert not systems_acted(acts)
    decided = (await state(handle)).verification
    assert decided is not None and decided.decision == "deny" and decided.actor.startswith("policy")


async def test_a_person_who_verifies_in_time_runs_and_a_late_denial_is_refused(harness: Harness) -> None:
    acts = harness.activities
    request = request_input("erasure", ("crm",), user_verification_until=iso_in(120), **USER_VERIFICATION)
    handle = await harness.start_request(request)
    await eventually(lambda: bool(acts.args(definitions.record_request_status)))

    person = OperatorDecision("data subject (DRP verification page)", "approve", "customer_id matched")
    await handle.execute_update(RequestWorkflow.verify, person)
    deny = handle.execute_update(RequestWorkflow.verify, OperatorDecision(DPO, "deny", "too late"))
    assert "already decided (approve)" in await update_refused(deny)
    outcome = await result(handle)

    # The lapse timer was withdrawn: the verification stands, the request ran to the end.
    assert outcome.status == "completed"
    assert statuses(acts) == ["awaiting_verification", "in_progress", "completed"]
    assert (await state(handle)).verification == person


# -- systems answering later -------------------------------------------------------------------
async def test_pending_system_closes_on_first_final_confirmation(harness: Harness) -> None:
    acts = harness.activities
    acts.systems["warehouse"] = SystemScript("pending")
    request = request_input("erasure", ("crm", "warehouse"))
    handle = await harness.start_request(request)
    child = system_handle(harness, request.request_id, "warehouse")
    await eventually(lambda: "warehouse" in systems_acted(acts))
    await settle(child)

    # Not a final answer: nothing changes.
    await child.signal(SystemTaskWorkflow.confirm, ConfirmationSignal("pending", now().isoformat()))
    await settle(child)
    assert (await child.describe()).status == WorkflowExecutionStatus.RUNNING
    await eventually(lambda: state_has_results(handle, {"crm"}))

    recording = acts.block(
        definitions.record_system_outcome, lambda given: given.result.system == "warehouse"
    )
    erased = ConfirmationSignal("erased", now().isoformat(), {"ticket": "T-1"}, record_count=3)
    await child.signal(SystemTaskWorkflow.confirm, erased)
    await eventually(lambda: bool(acts.args(definitions.record_system_outcome)))
    # A duplicate (or different late) answer while the first is being recorded: ignored.
    late = ConfirmationSignal("retained", now().isoformat(), retained_until=iso_in(3600))
    await child.signal(SystemTaskWorkflow.confirm, late)
    await child.signal(SystemTaskWorkflow.confirm, erased)
    recording.set()
    outcome = await result(handle)

    assert outcome.status == "completed"
    assert outcome.outcomes == {"crm": "erased", "warehouse": "erased"}
    # Recording is a local activity: a signal arriving while it runs may run it again (the ledger
    # keeps the first final answer), but only ever with the first final answer.
    recordings = [g.result for g in acts.args(definitions.record_system_outcome)]
    assert recordings
    for recorded in recordings:
        assert (recorded.system, recorded.outcome, recorded.record_count) == ("warehouse", "erased", 3)
        assert recorded.evidence == {"ticket": "T-1"}
    assert (await result(child)).outcome == "erased"
    assert systems_acted(acts).count("warehouse") == 1  # no reminders configured: acted once


async def state_has_results(handle: WorkflowHandle[Any, Any], systems: set[str]) -> bool:
    return set((await state(handle)).results) == systems


async def test_failed_system_waits_for_operator_retry(harness: Harness) -> None:
    acts = harness.activities
    acts.systems["crm"] = SystemScript(fail_first=1)
    request = request_input("erasure", ("crm",))
    handle = await harness.start_request(request)
    child = system_handle(harness, request.request_id, "crm")

    await eventually(lambda: bool(acts.args(definitions.record_system_outcome)))
    await settle(child)
    [failure] = [g.result for g in acts.args(definitions.record_system_outcome)]
    assert failure.outcome == "failed"
    assert "the pack is broken" in (failure.error or "")
    assert (await child.describe()).status == WorkflowExecutionStatus.RUNNING

    await child.signal(SystemTaskWorkflow.retry, RetrySignal("pack fixed"))
    outcome = await result(handle)

    assert outcome.outcomes == {"crm": "erased"}
    assert systems_acted(acts) == ["crm", "crm"]


# -- escalation ---------------------------------------------------------------------------------
async def test_escalation_reminds_alerts_then_flags_overdue(harness: Harness) -> None:
    acts = harness.activities
    acts.systems["warehouse"] = SystemScript("pending")
    due = now() + timedelta(seconds=5)
    request = request_input(
        "erasure",
        ("crm", "warehouse"),
        due_at=due.isoformat(),
        remind_after="PT1S",
        alert_before_due="PT3S",  # at due - 3 s
    )
    handle = await harness.start_request(request)

    await eventually(lambda: len(acts.args(definitions.alert_operator)) >= 2)
    alerts = acts.called(definitions.alert_operator)
    assert [a.arg.kind for a in alerts] == ["operator_alert", "overdue"]
    assert alerts[0].at < due
    assert alerts[1].at >= due - timedelta(milliseconds=500)
    assert {tuple(a.arg.pending_systems) for a in alerts} == {("warehouse",)}
    assert systems_acted(acts).count("warehouse") >= 2  # reminded: the task was sent again
    assert systems_acted(acts).count("crm") == 1  # an answered system is not reminded
    await eventually(lambda: overdue_flagged(handle))
    late = await state(handle)
    assert late.status == "in_progress"

    child = system_handle(harness, request.request_id, "warehouse")
    await child.signal(SystemTaskWorkflow.confirm, ConfirmationSignal("erased", now().isoformat()))
    outcome = await result(handle)

    assert outcome.status == "completed"
    assert outcome.outcomes == {"crm": "erased", "warehouse": "erased"}
    assert "overdue" in acts.args(definitions.record_request_status)[-1].flags


async def test_an_extension_alerts_the_operator_again_before_the_new_due_date(harness: Harness) -> None:
    acts = harness.activities
    acts.systems["warehouse"] = SystemScript("pending")
    request = request_input(
        "erasure",
        ("warehouse",),
        due_at=(now() + timedelta(seconds=3)).isoformat(),
        extendable_until=(now() + timedelta(seconds=6)).isoformat(),
        alert_before_due="PT2S",
    )
    handle = await harness.start_request(request)
    await eventually(lambda: len(acts.args(definitions.alert_operator)) >= 1)

    await handle.execute_update(RequestWorkflow.extend, OperatorDecision(DPO, "extend", "complex request"))
    await eventually(lambda: len(acts.args(definitions.alert_operator)) >= 2)

    first, second = acts.called(definitions.alert_operator)[:2]
    assert first.arg.kind == second.arg.kind == "operator_alert"
    assert second.arg.due_at == request.extendable_until
    child = system_handle(harness, request.request_id, "warehouse")
    await child.signal(SystemTaskWorkflow.confirm, ConfirmationSignal("erased", now().isoformat()))
    assert (await result(handle)).status == "completed"


@pytest.mark.parametrize(
    ("waiting_for", "change"),
    [
        ("identity verification", {"verification_reason": "identity document to check"}),
        ("objection decision", {"request_type": "objection"}),
        ("legal hold release", {}),
    ],
)
async def test_a_request_waiting_on_an_operator_is_escalated_too(
    harness: Harness, waiting_for: str, change: dict[str, Any]
) -> None:
    acts = harness.activities
    if waiting_for == "legal hold release":
        acts.holds = [LegalHold("hold-1", "pending litigation", DPO, now().isoformat())]
    due = now() + timedelta(seconds=5)
    request = request_input(
        change.pop("request_type", "erasure"),
        ("crm",),
        due_at=due.isoformat(),
        remind_after="PT1S",
        alert_before_due="PT3S",
        **change,
    )
    handle = await harness.start_request(request)

    await eventually(lambda: any(a.kind == "overdue" for a in acts.args(definitions.alert_operator)))
    alerts = acts.args(definitions.alert_operator)
    assert {a.waiting_for for a in alerts} == {waiting_for}
    assert alerts[0].kind == "operator_alert" and alerts[0].reminder == 1, "reminded while it waits"
    assert any(a.kind == "operator_alert" and a.reminder == 0 for a in alerts), "alerted before the due date"
    assert alerts[-1].kind == "overdue" and not alerts[-1].pending_systems
    await eventually(lambda: overdue_flagged(handle))

    await handle.execute_update(RequestWorkflow.cancel, OperatorDecision(DPO, "cancel", "test done"))
    outcome = await result(handle)
    assert outcome.status == "cancelled"
    assert "overdue" in acts.args(definitions.record_request_status)[-1].flags


async def overdue_flagged(handle: WorkflowHandle[Any, Any]) -> bool:
    description = await handle.describe()
    overdue = description.typed_search_attributes.get(search.OVERDUE)
    return bool(overdue) and "overdue" in (await state(handle)).flags


# -- cancellation ------------------------------------------------------------------------------
async def test_cancel_withdraws_only_from_withdrawable_pending_systems(harness: Harness) -> None:
    acts = harness.activities
    acts.systems["partner"] = SystemScript(
        "pending", withdrawable=True, signed_callbacks=True, partner_request_id="srq-1"
    )
    acts.systems["warehouse"] = SystemScript("pending")
    request = request_input("erasure", ("crm", "partner", "warehouse"))
    handle = await harness.start_request(request)
    await eventually(lambda: sorted(systems_acted(acts)) == ["crm", "partner", "warehouse"])
    for system in ("partner", "warehouse"):
        await settle(system_handle(harness, request.request_id, system))

    no_reason = handle.execute_update(RequestWorkflow.cancel, OperatorDecision(DPO, "cancel", ""))
    assert "needs a reason" in await update_refused(no_reason)
    decision = OperatorDecision(DPO, "cancel", "the subject withdrew the request")
    cancelled: RequestState = await handle.execute_update(RequestWorkflow.cancel, decision)
    assert cancelled.cancelled == decision
    outcome = await result(handle)

    assert outcome.status == "cancelled"
    assert outcome.outcomes == {"crm": "erased"}
    assert [t.step.system for t in acts.args(definitions.cancel_partner_request)] == ["partner"]
    for system in ("partner", "warehouse"):
        child = await system_handle(harness, request.request_id, system).describe()
        assert child.status == WorkflowExecutionStatus.CANCELED
    last = acts.args(definitions.record_request_status)[-1]
    assert last.status == "cancelled"
    assert "the subject withdrew the request" in (last.reason or "")


# -- partner callbacks (Update on the system's workflow) ----------------------------------------
async def _partner_task(harness: Harness, action: str, request_type: str, *, signed: bool) -> Any:
    harness.activities.systems["partner"] = SystemScript(
        "pending", withdrawable=signed, signed_callbacks=signed, partner_request_id="srq-42"
    )
    task = task_input("partner", action, request_type)
    handle = await harness.client.start_workflow(
        SystemTaskWorkflow.run,
        task,
        id=system_workflow_id(task.request_id, "partner"),
        task_queue=harness.task_queue,
    )
    await eventually(lambda: bool(systems_acted(harness.activities)))
    await settle(handle)
    return handle


def _callback(status: str, subject_request_id: str = "srq-42") -> PartnerStatusUpdate:
    return PartnerStatusUpdate(subject_request_id, status, now().isoformat(), {"partner": "acme"})


@pytest.mark.parametrize(
    ("action", "request_type", "status"),
    [
        ("erase", "erasure", "completed"),
        ("notify", "rectification", "completed"),
        ("erase", "erasure", "cancelled"),
    ],
)
async def test_partner_status_update_settles_the_system(
    harness: Harness, action: str, request_type: str, status: str
) -> None:
    acts = harness.activities
    handle = await _partner_task(harness, action, request_type, signed=True)
    expected = partner_outcome(status, action, request_type)
    assert expected is not None

    unknown = handle.execute_update(SystemTaskWorkflow.partner_status, _callback("done"))
    assert "unknown request_status" in await update_refused(unknown)
    foreign = handle.execute_update(SystemTaskWorkflow.partner_status, _callback("completed", "srq-other"))
    assert "does not belong" in await update_refused(foreign)
    progress = await handle.execute_update(SystemTaskWorkflow.partner_status, _callback("in_progress"))
    assert progress == "noted"

    recording = acts.block(definitions.record_system_outcome, lambda given: True)
    assert await handle.execute_update(SystemTaskWorkflow.partner_status, _callback(status)) == expected
    await eventually(lambda: bool(acts.args(definitions.record_system_outcome)))
    repeated = await handle.execute_update(SystemTaskWorkflow.partner_status, _callback("completed"))
    assert repeated == "already final"
    recording.set()
    final: SystemResult = await result(handle)

    assert final.outcome == expected
    assert final.evidence["subject_request_id"] == "srq-42"
    assert final.evidence["confirmed_by"] == "signed callback"
    assert final.error == (PARTNER_CANCELLED_REASON if status == "cancelled" else None)
    assert len(acts.args(definitions.record_system_outcome)) == 1


async def test_partner_status_refused_for_system_without_signed_callbacks(harness: Harness) -> None:
    handle = await _partner_task(harness, "erase", "erasure", signed=False)

    refused = handle.execute_update(SystemTaskWorkflow.partner_status, _callback("completed"))
    assert "not a partner" in await update_refused(refused)
    # The queued Signal form is checked the same way: ignored.
    await handle.signal(SystemTaskWorkflow.partner_status_queued, _callback("completed"))
    await settle(handle)
    assert (await handle.describe()).status == WorkflowExecutionStatus.RUNNING
    assert not harness.activities.args(definitions.record_system_outcome)


# -- rectification refused (the policy reserves it) -----------------------------------------------
async def test_an_operator_refuses_a_rectification_with_reasons_before_any_system_changes(
    harness: Harness,
) -> None:
    acts = harness.activities
    request = request_input("rectification", ("crm", "claims"), rectification_review=True)
    handle = await harness.start_request(request)
    await eventually(lambda: any("awaiting operator decision" in (c.reason or "")
                                 for c in acts.args(definitions.record_request_status)))  # fmt: skip
    without_reason = handle.execute_update(
        RequestWorkflow.decide_rectification, OperatorDecision(DPO, "refuse", "")
    )
    assert "needs the reasons" in await update_refused(without_reason)
    await handle.execute_update(
        RequestWorkflow.decide_rectification,
        OperatorDecision(DPO, "refuse", "data needed for a criminal investigation"),
    )
    outcome = await result(handle)

    assert outcome.status == "completed"
    assert outcome.outcomes == {"crm": "refused", "claims": "refused"}
    assert systems_acted(acts) == [], "no system was changed"
    refusals = acts.args(definitions.record_system_outcome)
    assert {r.result.error for r in refusals} == {"data needed for a criminal investigation"}


async def test_a_rectification_decision_is_refused_where_the_policy_reserves_none(harness: Harness) -> None:
    acts = harness.activities
    acts.systems["crm"] = SystemScript("pending")
    request = request_input("rectification", ("crm",))
    handle = await harness.start_request(request)
    await eventually(lambda: bool(systems_acted(acts)))
    accept = handle.execute_update(RequestWorkflow.decide_rectification, OperatorDecision(DPO, "accept", ""))
    assert "does not reserve" in await update_refused(accept)
    await handle.execute_update(RequestWorkflow.cancel, OperatorDecision(DPO, "cancel", "test done"))
    assert (await result(handle)).status == "cancelled"
