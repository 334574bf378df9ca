"""The request workflow: gates, fan-out to every system and recipient, escalation, evidence.

Deterministic: all I/O is in activities, called through their typed stubs
(``workers.activities.definitions``); the plan was resolved from the policy pack by the intake
and arrives in the input, so history records which rules applied. Which gates a request passes
(legal holds, an operator's decision, the fee rule, a report, a transfer) is read from its
type's row in ``schemas.vocabulary.REQUEST_TYPES``, not from branches on type names.
Operator actions arrive as Updates (with validators, so the API answers a true 4xx when an
action is not allowed now) and are idempotent: a repeated action changes nothing.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any, TypeVar

from temporalio import workflow
from temporalio.exceptions import ChildWorkflowError, is_cancelled_exception

from orchestrator.workflows import ledger_steps, rules, search
from orchestrator.workflows.identity_checks import IdentityChecks
from orchestrator.workflows.lost_systems import LostSystems
from orchestrator.workflows.models import (
    OperatorDecision,
    RequestInput,
    RequestOutcome,
    RequestState,
    system_workflow_id,
)
from orchestrator.workflows.operator_updates import OperatorUpdates
from orchestrator.workflows.system_task import SystemTaskWorkflow
from orchestrator.workflows.waits import SYSTEMS, EscalatingWaits

with workflow.unsafe.imports_passed_through():
    from schemas.vocabulary import REQUEST_TYPES
    from workers.activities import definitions
    from workers.messages.requests import (
        DuplicateQuery,
        PortabilityTransfer,
        ReportInput,
        RequestStatusChange,
        SubjectQuery,
        SystemOutcomeInput,
        SystemResult,
    )

# The command sequence changed: a child that ends without an answer is recorded failed and
# waits for an operator, instead of failing the whole request (histories before: unchanged).
CHILD_LOST_PATCH = "request-child-lost-waits-for-retry"
A = TypeVar("A")
R = TypeVar("R")


@workflow.defn(name="RequestWorkflow")
class RequestWorkflow(OperatorUpdates, LostSystems, IdentityChecks, EscalatingWaits):
    @workflow.init
    def __init__(self, request: RequestInput) -> None:
        # The input is kept before any handler runs: an Update sent right after the start is
        # validated against it.
        self._request = request
        self._state = RequestState(due_at=request.due_at)
        self._pending: set[str] = set()
        self._wake = False  # an update changed the due date or cancelled: re-plan timers
        self._children: dict[str, Any] = {}
        self._retries: dict[str, int] = {}  # retry_system signals per system
        self._fired: set[str] = set()  # escalations done (remind-N, alert, overdue)
        self._due_seen = request.due_at  # the due date the alert and overdue flag were planned for
        # Identifiers resolution linked to the subject: kept out of RequestState, which operator
        # updates return to the API, so identities never travel back in an answer.
        self._linked: dict[str, list[str]] = {}

    # -- the run -------------------------------------------------------------------------
    @workflow.run
    async def run(self, request: RequestInput) -> RequestOutcome:
        gates = REQUEST_TYPES[request.request_type]
        if request.receipt_due_at:
            # The law asks the controller to confirm receipt (CCPA: within 10 business days).
            await self._activity(definitions.acknowledge_receipt, self._status_change("received"))
        conflict = await self._resolve_identities(request)
        checked = request.verification_reason or await self._identities_disagree(request)
        reason = "; ".join(r for r in (checked, conflict) if r) or None
        if reason and not await self._verified(request, reason):
            return await self._close(request)
        await self._set_status("in_progress")
        if await self._merged_into_earlier(request):
            return await self._close(request)
        if not request.steps:
            self._state.reason = (
                f"the {request.tenant} policy pack has no rule for this {request.request_type} request"
            )
            await self._set_status("rejected")
            return await self._close(request)
        if gates.needs_decision and not await self._objection_upheld(request):
            return await self._close_refused(request, "objection refused", self._state.objection)
        if request.rectification_review and not await self._rectification_accepted(request):
            return await self._close_refused(request, "rectification refused", self._state.rectification)
        if gates.held_by_legal_holds:
            await self._wait_for_holds(request)
        if gates.charged_after_free_copies and request.free_copies is not None:
            await self._apply_fee_rule(request)
        if self._state.cancelled is None:
            await self._fan_out(request)
        if self._state.cancelled is not None:
            await self._set_status("cancelled")
            return await self._close(request)
        if gates.compiles_report:
            await self._activity(definitions.compile_report, self._report_input(request))
        destination = request.details.get("destination")
        if gates.transfers and isinstance(destination, dict) and destination.get("url"):
            self._state.results["transfer"] = await self._transfer(request, destination)
        if gates.purges_own_copies and workflow.patched("purge-own-copies"):
            # The person's data is gone from every system: our own copies of it go as well,
            # before the request is recorded as completed (whoever sees it closed sees them gone).
            # (Patched: erasures that completed before this release replay without it.)
            query = SubjectQuery(request.request_id, request.tenant, request.subject_refs)
            await self._activity(definitions.purge_subject_copies, query)
        await self._set_status("completed")
        return await self._close(request)

    async def _merged_into_earlier(self, request: RequestInput) -> bool:
        """A verified duplicate (same subject, type, details) joins the earlier open request."""
        query = DuplicateQuery(
            request.request_id,
            request.tenant,
            request.request_type,
            request.subject_refs,
            request.details_digest,
        )
        earlier = await self._activity(definitions.find_duplicate, query)
        if earlier is None:
            return False
        self._state.reason = f"merged into request {earlier} (same subject, type and details)"
        await self._set_status("cancelled")
        return True

    async def _verified(self, request: RequestInput, reason: str) -> bool:
        self._state.reason = reason
        await self._set_status("awaiting_verification")
        await self._wait_escalating(
            request, lambda: self._state.verification is not None, "identity verification"
        )
        await self._activity(definitions.discard_identity_document, request.request_id)
        decision = self._state.verification
        if self._state.cancelled is not None:
            await self._set_status("cancelled")
            return False
        assert decision is not None
        if decision.decision != "approve":
            self._state.reason = f"identity not verified: {decision.reason}"
            await self._set_status("rejected")
            return False
        self._state.reason = None
        return True

    async def _objection_upheld(self, request: RequestInput) -> bool:
        """Objections to absolute purposes (direct marketing) always hold; others need a decision."""
        purposes = set(request.details.get("purposes") or [])
        if purposes and purposes <= set(request.absolute_objection_purposes):
            return True
        self._state.reason = "objection on grounds of the subject's situation: awaiting operator decision"
        await self._set_status("in_progress")
        await self._wait_escalating(request, lambda: self._state.objection is not None, "objection decision")
        decision = self._state.objection
        self._state.reason = None
        return decision is not None and decision.decision == "accept"

    async def _rectification_accepted(self, request: RequestInput) -> bool:
        """The policy reserves refusing a rectification (data needed for a criminal
        investigation): an operator decides, with reasons, before any system is changed."""
        self._state.reason = "rectification: awaiting operator decision (the policy reserves refusals)"
        await self._set_status("in_progress")
        await self._wait_escalating(
            request, lambda: self._state.rectification is not None, "rectification decision"
        )
        decision = self._state.rectification
        self._state.reason = None
        return decision is not None and decision.decision == "accept"

    async def _close_refused(
        self, request: RequestInput, what: str, decision: OperatorDecision | None
    ) -> RequestOutcome:
        """An operator refused the request: every system records the refusal and its reasons."""
        if self._state.cancelled is not None or decision is None:
            await self._set_status("cancelled")
            return await self._close(request)
        self._state.reason = f"{what}: {decision.reason}"
        for step in request.steps:
            self._state.results[step.system] = await self._record_refusal(
                request, step.system, step.action, decision.reason
            )
        await self._set_status("completed")
        return await self._close(request)

    async def _record_refusal(
        self,
        request: RequestInput,
        system: str,
        action: str,
        reason: str,
        evidence: dict[str, Any] | None = None,
    ) -> SystemResult:
        refused = SystemResult(
            system, action, "refused", workflow.now().isoformat(), evidence or {}, error=reason
        )
        outcome = SystemOutcomeInput(request.request_id, request.tenant, request.request_type, refused)
        return await self._activity(definitions.record_system_outcome, outcome)

    async def _wait_for_holds(self, request: RequestInput) -> None:
        """A legal hold on the subject blocks erasure until an operator releases it."""
        query = SubjectQuery(request.request_id, request.tenant, request.subject_refs)
        while self._state.cancelled is None:
            # Releases are counted before asking: one that arrives while the holds are read or
            # the status recorded must still wake the wait below.
            releases_seen = self._state.holds_released
            holds = await self._activity(definitions.legal_holds_for, query)
            if not holds:
                break
            self._set_flag("on_hold", True)
            self._state.reason = "legal hold: " + "; ".join(h.reason for h in holds)
            await self._set_status("in_progress")
            await self._wait_escalating(
                request, partial(self._hold_released_since, releases_seen), "legal hold release"
            )
        if "on_hold" in self._state.flags:
            self._set_flag("on_hold", False)
            self._state.reason = None
            await self._set_status("in_progress")

    async def _apply_fee_rule(self, request: RequestInput) -> None:
        query = SubjectQuery(request.request_id, request.tenant, request.subject_refs)
        previous = await self._activity(definitions.count_previous_copies, query)
        if request.free_copies is not None and previous >= request.free_copies:
            self._set_flag("fee_applicable", True)
            await self._set_status("in_progress")

    async def _fan_out(self, request: RequestInput) -> None:
        """One child per system; wait for all while reminding, alerting and flagging overdue."""
        self._pending = {step.system for step in request.steps}
        tasks = [asyncio.ensure_future(self._run_child(request, step)) for step in request.steps]
        await self._wait_escalating(request, lambda: not self._pending, SYSTEMS)
        if self._state.cancelled is not None:
            # Each system's workflow is cancelled and given time to withdraw what it sent
            # (a partner's request is deleted at the partner) before the request closes.
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            return
        await asyncio.gather(*tasks)

    async def _run_child(self, request: RequestInput, step: Any) -> None:
        task = request.task_for(step, details=request.details, linked=self._linked)
        while True:
            handle = await workflow.start_child_workflow(
                SystemTaskWorkflow.run, task, id=system_workflow_id(request.request_id, step.system)
            )
            self._children[step.system] = handle
            try:
                result: SystemResult = await handle
                break
            except ChildWorkflowError as err:
                if is_cancelled_exception(err) or not workflow.patched(CHILD_LOST_PATCH):
                    raise
                # Terminated or timed out: it will never answer (see lost_systems).
                await self._child_lost(request, step, err)
        self._state.results[step.system] = result
        self._pending.discard(step.system)

    async def _transfer(self, request: RequestInput, destination: dict[str, Any]) -> SystemResult:
        """Send the export to the named provider, unless the policy forbids that destination."""
        reason = rules.transfer_refusal(request, str(destination.get("country") or "").upper())
        if reason:
            evidence = {"destination": destination.get("name"), "not_possible": reason}
            return await self._record_refusal(request, "transfer", "transfer", reason, evidence)
        transfer = PortabilityTransfer(request.request_id, request.tenant, destination)
        return await self._activity(definitions.transfer_export, transfer)

    # -- helpers -----------------------------------------------------------------------------
    def _set_flag(self, flag: str, on: bool) -> None:
        if on and flag not in self._state.flags:
            self._state.flags.append(flag)
        elif not on and flag in self._state.flags:
            self._state.flags.remove(flag)
        if flag == "overdue":
            workflow.upsert_search_attributes([search.OVERDUE.value_set(on)])
            workflow.upsert_memo({"summary": search.summary(self._request, self._state)})

    async def _set_status(self, status: str, reason: str | None = None) -> None:
        self._state.status = status
        workflow.upsert_search_attributes([search.STATUS.value_set(status)])
        workflow.upsert_memo({"summary": search.summary(self._request, self._state)})
        await self._activity(definitions.record_request_status, self._status_change(status, reason))

    def _status_change(self, status: str, reason: str | None = None) -> RequestStatusChange:
        return RequestStatusChange(
            request_id=self._request.request_id,
            tenant=self._request.tenant,
            request_type=self._request.request_type,
            status=status,
            due_at=self._state.due_at,
            flags=list(self._state.flags),
            reason=reason or self._state.reason,
        )

    async def _activity(self, stub: Callable[[A], Awaitable[R]], argument: A) -> R:
        """Our own ledger and Kafka (bookkeeping as local activities): retried until they are back."""
        return await ledger_steps.run_step(stub, argument)

    def _report_input(self, request: RequestInput) -> ReportInput:
        return ReportInput(
            request.request_id, request.tenant, request.request_type, request.controller, request.steps
        )

    async def _close(self, request: RequestInput) -> RequestOutcome:
        await workflow.wait_condition(workflow.all_handlers_finished)
        return RequestOutcome(
            request.request_id,
            self._state.status,
            {name: r.outcome for name, r in self._state.results.items()},
        )
