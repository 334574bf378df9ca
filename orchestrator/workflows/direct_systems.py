"""Systems that answer in the call (SQL databases, files, web APIs): acted on by the request
workflow itself, with no child workflow. Mixed into RequestWorkflow.

Why: a child per system costs a workflow start, its own tasks and history, and its close
reported back to the parent — about half of one erasure's time on the shop database (bench
(f), issue 13) — and is only needed where a system answers later (a Kafka confirmation, a
partner's callback, an operator), so that confirmations and callbacks have a workflow id to
reach. Here the same activity runs with the same retries and the same evidence: the connector
activity is idempotent per (request, system) through the ledger, so a retried or replayed
step never acts twice. A non-retryable failure is recorded ``failed`` and waits for the
operator's ``retry_system`` Signal (``privacyctl retry`` asks the request's workflow when the
system has none), as a child would wait for its own ``retry``.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Awaitable, Callable
from functools import partial
from typing import TypeVar

from temporalio import workflow
from temporalio.exceptions import ActivityError, is_cancelled_exception
from temporalio.workflow import ParentClosePolicy

from orchestrator.workflows.fairness import priority_after
from orchestrator.workflows.models import RequestInput, RequestState, SystemTaskState
from orchestrator.workflows.retention import RetentionExpiryWorkflow, retention_workflow_id
from orchestrator.workflows.system_task import act_on_system

with workflow.unsafe.imports_passed_through():
    from workers.activities import definitions
    from workers.messages.requests import SystemOutcomeInput, SystemResult, SystemStep, SystemTaskInput

# The command sequence changed: a system that answers in the call is an activity of the request,
# not a child workflow. Histories recorded before (and inputs without ``answers_later``) keep
# their children.
DIRECT_SYSTEMS_PATCH = "request-acts-on-synchronous-systems"
A = TypeVar("A")
R = TypeVar("R")


class DirectSystems:
    _state: RequestState
    _retries: dict[str, int]  # retry_system Signals received, per system
    _steps_done: int  # the request's activities completed (fairness)

    async def _activity(self, stub: Callable[[A], Awaitable[R]], argument: A) -> R:
        raise NotImplementedError

    @staticmethod
    def _acts_directly(step: SystemStep) -> bool:
        return not step.answers_later and workflow.patched(DIRECT_SYSTEMS_PATCH)

    async def _act_directly(self, request: RequestInput, task: SystemTaskInput) -> SystemResult:
        """Act on the system and return its answer. Should it answer ``pending`` against its
        kind, the caller starts its workflow to wait for the answer (``_waiting_task``)."""
        step = task.step
        while True:
            try:
                result = await act_on_system(task, priority_after(self._steps_done))
                self._steps_done += 1
                break
            except ActivityError as err:
                if is_cancelled_exception(err):
                    raise asyncio.CancelledError() from err  # the request was cancelled
                failed = SystemResult(step.system, step.action, "failed", error=str(err.cause or err))
                self._state.results[step.system] = await self._activity(
                    definitions.record_system_outcome,
                    SystemOutcomeInput(request.request_id, request.tenant, request.request_type, failed),
                )
                await workflow.wait_condition(
                    partial(self._retried_since, step.system, self._retries.get(step.system, 0))
                )
        if result.outcome == "retained" and result.retained_until:
            # Kept only for a while: a detached workflow erases it when the period ends (the
            # same one a system's own workflow would start).
            await workflow.start_child_workflow(
                RetentionExpiryWorkflow.run,
                args=[task, result.retained_until],
                id=retention_workflow_id(task.request_id, step.system),
                parent_close_policy=ParentClosePolicy.ABANDON,
            )
        return result

    def _retried_since(self, system: str, retries_seen: int) -> bool:
        return self._retries.get(system, 0) > retries_seen

    @staticmethod
    def _waiting_task(task: SystemTaskInput, answer: SystemResult) -> SystemTaskInput:
        """The input of a system workflow that resumes the wait for ``answer`` (already acted
        on, so it does not act again), as a continued run would."""
        state = SystemTaskState(
            waiting=answer,
            partner_request_id=answer.evidence.get("subject_request_id"),
            withdrawable=answer.withdrawable,
            signed_callbacks=answer.signed_callbacks,
        )
        return dataclasses.replace(task, resume=dataclasses.asdict(state))
