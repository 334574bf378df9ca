"""A system's workflow that ends without an answer (terminated by hand in the UI, or timed out):
recorded ``failed`` with the reason, an operator alerted, and the request waits for the
operator's ``retry_system`` Signal, which starts the system's workflow again. Mixed into
RequestWorkflow.

Why not restart it at once: a termination is usually deliberate (a stuck or wrong task), and a
restart would act on the system again behind the operator's back. Why not fail the request: the
other systems' evidence stands, and one retry usually settles it; a cancellation still ends it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from temporalio import workflow
from temporalio.exceptions import ChildWorkflowError

from orchestrator.workflows.models import RequestInput, RequestState, RetrySignal

with workflow.unsafe.imports_passed_through():
    from workers.activities import definitions
    from workers.messages.requests import OperatorAlert, SystemOutcomeInput, SystemResult

A = TypeVar("A")
R = TypeVar("R")


class LostSystems:
    _state: RequestState
    _retries: dict[str, int]  # retry_system Signals received, per system

    async def _activity(self, stub: Callable[[A], Awaitable[R]], argument: A) -> R:
        raise NotImplementedError

    async def _child_lost(self, request: RequestInput, step: Any, err: ChildWorkflowError) -> None:
        """Record the lost system, alert an operator, and return once they ask for a retry."""
        cause = type(err.cause).__name__ if err.cause else "ChildWorkflowError"
        reason = f"the system's workflow ended without an answer ({cause}): an operator may retry it"
        lost = SystemResult(step.system, step.action, "failed", None, {}, error=reason)
        self._state.results[step.system] = await self._activity(
            definitions.record_system_outcome,
            SystemOutcomeInput(request.request_id, request.tenant, request.request_type, lost),
        )
        await self._activity(
            definitions.alert_operator,
            OperatorAlert(
                request.request_id, request.tenant, request.request_type, "operator_alert",
                self._state.due_at, [step.system],
            ),
        )  # fmt: skip
        retries_seen = self._retries.get(step.system, 0)
        await workflow.wait_condition(lambda: self._retries.get(step.system, 0) > retries_seen)

    @workflow.signal
    def retry_system(self, retry: RetrySignal) -> None:
        """An operator asks a system whose workflow was terminated or timed out to start again."""
        self._retries[retry.system] = self._retries.get(retry.system, 0) + 1
