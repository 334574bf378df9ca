"""The operator's side of a running request: Updates (with validators, so the API answers a
true 409 with the reason) and the hold-release Signal. Mixed into RequestWorkflow.

Handlers are idempotent: repeating an action changes nothing; the rules of when an action is
allowed are pure functions in ``rules``.
"""

from __future__ import annotations

from datetime import datetime

from temporalio import workflow
from temporalio.exceptions import ApplicationError

from orchestrator.workflows import rules, search
from orchestrator.workflows.models import OperatorDecision, RequestInput, RequestState


def _refuse_if(reason: str | None) -> None:
    if reason:
        raise ApplicationError(reason)


class OperatorUpdates:
    _state: RequestState
    _request: RequestInput
    _wake: bool

    def _set_flag(self, flag: str, on: bool) -> None:
        raise NotImplementedError

    async def _set_status(self, status: str, reason: str | None = None) -> None:
        raise NotImplementedError

    # -- operator updates --------------------------------------------------------------------
    @workflow.update
    async def verify(self, decision: OperatorDecision) -> RequestState:
        if self._state.verification is None:
            self._state.verification = decision
        return self._state

    @verify.validator
    def _validate_verify(self, decision: OperatorDecision) -> None:
        _refuse_if(rules.verify_refusal(self._state, decision))

    @workflow.update
    async def decide_objection(self, decision: OperatorDecision) -> RequestState:
        if self._state.objection is None:
            self._state.objection = decision
        return self._state

    @decide_objection.validator
    def _validate_objection(self, decision: OperatorDecision) -> None:
        _refuse_if(rules.objection_refusal(self._request, decision))

    @workflow.update
    async def decide_rectification(self, decision: OperatorDecision) -> RequestState:
        if self._state.rectification is None:
            self._state.rectification = decision
        return self._state

    @decide_rectification.validator
    def _validate_rectification(self, decision: OperatorDecision) -> None:
        _refuse_if(rules.rectification_refusal(self._request, decision))

    @workflow.update
    async def extend(self, decision: OperatorDecision) -> RequestState:
        if "extended" not in self._state.flags:
            assert self._request.extendable_until is not None
            self._state.due_at = self._request.extendable_until
            self._set_flag("extended", True)
            self._set_flag("overdue", False)
            workflow.upsert_search_attributes(
                [search.DUE_AT.value_set(datetime.fromisoformat(self._state.due_at))]
            )
            self._wake = True
            await self._set_status(self._state.status, reason=f"deadline extended: {decision.reason}")
        return self._state

    @extend.validator
    def _validate_extend(self, decision: OperatorDecision) -> None:
        _refuse_if(rules.extension_refusal(self._state, self._request, decision, workflow.now()))

    @workflow.update
    async def cancel(self, decision: OperatorDecision) -> RequestState:
        if self._state.cancelled is None:
            self._state.cancelled = decision
            self._state.reason = f"cancelled: {decision.reason}"
            self._wake = True
        return self._state

    @cancel.validator
    def _validate_cancel(self, decision: OperatorDecision) -> None:
        _refuse_if(rules.cancel_refusal(self._state, decision))

    def _hold_released_since(self, releases_seen: int) -> bool:
        return self._state.holds_released > releases_seen or self._state.cancelled is not None

    @workflow.signal
    def hold_released(self) -> None:
        self._state.holds_released += 1

    @workflow.query
    def state(self) -> RequestState:
        return self._state
