"""One downstream system's part in one request: act, then wait for its confirmation.

A child workflow per system keeps each history small and lets the fan-out run wide; its
id is derived from (request, system), so the intake can route a late confirmation to it.
A system that answers after months (a partner polled every ``poll_every``, reminders) would
grow a long history: past ``SystemTaskState.history_limit`` events, or when Temporal suggests
it, the run continues as new, carrying its whole state (one dataclass) to the next run, under
the same workflow id (signals, updates and the parent's wait follow it).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
from collections.abc import Awaitable
from datetime import timedelta
from functools import partial

from temporalio import workflow
from temporalio.common import Priority, RetryPolicy
from temporalio.converter import value_to_type
from temporalio.exceptions import ActivityError, is_cancelled_exception
from temporalio.workflow import ParentClosePolicy

from orchestrator.workflows.models import (
    ConfirmationSignal,
    PartnerStatusUpdate,
    RetrySignal,
    SystemTaskState,
    partner_confirmation,
)
from orchestrator.workflows.retention import RetentionExpiryWorkflow, retention_workflow_id
from orchestrator.workflows.retries import CONNECTOR_RETRY, LEDGER_RETRY

with workflow.unsafe.imports_passed_through():
    from schemas.periods import parse_duration
    from schemas.vocabulary import FINAL_OUTCOMES, PARTNER_STATUSES
    from workers.activities import definitions
    from workers.messages.requests import SystemOutcomeInput, SystemResult, SystemTaskInput


# The command sequence changed: a long wait now ends its run with continue-as-new. Histories
# recorded before (replayed by older workers' runs) keep polling in the same run.
CONTINUE_AS_NEW_PATCH = "system-task-continue-as-new"
# The command sequence changed: the system's answer is kept by a local activity (a marker in the
# history), as the request's own ledger steps are; histories recorded before keep scheduling it.
LOCAL_OUTCOME_PATCH = "system-task-outcome-recorded-locally"


def act_on_system(task: SystemTaskInput, priority: Priority = Priority.default) -> Awaitable[SystemResult]:
    """The system's connector acting on the task: the one way every workflow calls it."""
    return workflow.execute_activity(
        definitions.apply_system_action,
        task,
        start_to_close_timeout=timedelta(seconds=30),
        retry_policy=CONNECTOR_RETRY,
        priority=priority,
    )


@workflow.defn(name="SystemTaskWorkflow")
class SystemTaskWorkflow:
    @workflow.init
    def __init__(self, task: SystemTaskInput) -> None:
        # Kept before any handler runs: a callback's Update is validated against them. A
        # continued run finds its predecessor's state in ``task.resume``.
        self._task = dataclasses.replace(task, resume=None)
        self._state = value_to_type(SystemTaskState, task.resume) if task.resume else SystemTaskState()
        self._retry_requested = False

    @workflow.run
    async def run(self, task: SystemTaskInput) -> SystemResult:
        task, state = self._task, self._state
        try:
            # A continued run resumes the wait its predecessor was in; a first run acts.
            result = state.waiting or await self._act(task)
            state.waiting = None
            while result.outcome == "pending" and state.confirmation is None:
                if self._history_is_long() and workflow.patched(CONTINUE_AS_NEW_PATCH):
                    await workflow.wait_condition(workflow.all_handlers_finished)
                    if state.confirmation is None:
                        state.waiting = result
                        state.runs_continued += 1
                        workflow.continue_as_new(dataclasses.replace(task, resume=dataclasses.asdict(state)))
                    break
                # An asynchronous system answers on Kafka, a partner by a signed callback, an
                # operator for a manual step. A reminder (or, for a partner, each polling tick)
                # asks again: re-sent, or the partner's status read.
                with contextlib.suppress(TimeoutError):
                    await workflow.wait_condition(
                        partial(self._answered_or_reminded, state.reminders), timeout=self._poll_every(task)
                    )
                if state.confirmation is None:
                    result = await self._act(task)
        except asyncio.CancelledError:
            if state.withdrawable or state.signed_callbacks is None:
                # The request was cancelled: withdraw what was sent (a partner's request), then
                # end as cancelled. Before the first answer nobody knows what was sent yet: the
                # connector decides (a system with nothing to withdraw does nothing).
                await workflow.execute_activity(
                    definitions.cancel_partner_request,
                    task,
                    start_to_close_timeout=timedelta(seconds=30),
                    retry_policy=RetryPolicy(maximum_attempts=5),
                )
            raise
        if state.confirmation is not None:
            answer = state.confirmation
            result = await self._record(
                task,
                SystemResult(
                    system=task.step.system,
                    action=task.step.action,
                    outcome=answer.outcome,
                    confirmed_at=answer.at,
                    evidence=answer.evidence,
                    legal_basis=answer.legal_basis,
                    retained_until=answer.retained_until,
                    error=answer.reason,
                    record_count=answer.record_count,
                ),
            )
        if result.outcome == "retained" and result.retained_until:
            # Kept only for a while (recent recordings, invoices for the legal period, …): a
            # detached workflow erases it when the period ends. Only this workflow's input holds
            # the identities that find the rows again (the ledger keeps pseudonymous refs only).
            await workflow.start_child_workflow(
                RetentionExpiryWorkflow.run,
                args=[task, result.retained_until],
                id=retention_workflow_id(task.request_id, task.step.system),
                parent_close_policy=ParentClosePolicy.ABANDON,
            )
        await workflow.wait_condition(workflow.all_handlers_finished)
        return result

    def _history_is_long(self) -> bool:
        info = workflow.info()
        return (
            info.is_continue_as_new_suggested()
            or info.get_current_history_length() >= self._state.history_limit
        )

    @staticmethod
    def _poll_every(task: SystemTaskInput) -> float | None:
        every = task.step.connector.get("poll_every")
        if not every:
            return None
        months, exact = parse_duration(every)
        return (exact + timedelta(days=30 * months)).total_seconds()

    async def _act(self, task: SystemTaskInput) -> SystemResult:
        """Apply the connector; on a non-retryable failure, record it and wait for an operator."""
        while True:
            try:
                result = await act_on_system(task)
                state = self._state
                state.partner_request_id = result.evidence.get("subject_request_id", state.partner_request_id)
                state.withdrawable = result.withdrawable
                state.signed_callbacks = result.signed_callbacks
                return result
            except ActivityError as err:
                if is_cancelled_exception(err):
                    # The request was cancelled while the system was being acted on: not a
                    # failure to wait on, the cancellation itself (withdraw, then end).
                    raise asyncio.CancelledError() from err
                failure = SystemResult(
                    system=task.step.system,
                    action=task.step.action,
                    outcome="failed",
                    error=str(err.cause or err),
                )
                await self._record(task, failure)
                self._retry_requested = False
                await workflow.wait_condition(lambda: self._retry_requested)

    async def _record(self, task: SystemTaskInput, result: SystemResult) -> SystemResult:
        """Keep the system's answer in our ledger: milliseconds, so a local activity in the worker
        running this workflow (no task-queue round trip between a partner's callback and the
        request closing). It may run again if a signal arrives meanwhile: the ledger keeps the
        first final answer, so running it twice changes nothing."""
        outcome = SystemOutcomeInput(task.request_id, task.tenant, task.request_type, result)
        if workflow.patched(LOCAL_OUTCOME_PATCH):
            return await workflow.execute_local_activity(
                definitions.record_system_outcome,
                outcome,
                start_to_close_timeout=timedelta(seconds=30),
                retry_policy=LEDGER_RETRY,
            )
        return await workflow.execute_activity(
            definitions.record_system_outcome,
            outcome,
            start_to_close_timeout=timedelta(seconds=30),
            retry_policy=LEDGER_RETRY,
        )

    @workflow.signal
    def confirm(self, answer: ConfirmationSignal) -> None:
        """First final answer wins; duplicates and late repeats change nothing."""
        if self._state.confirmation is None and answer.outcome in FINAL_OUTCOMES:
            self._state.confirmation = answer

    @workflow.update
    def partner_status(self, update: PartnerStatusUpdate) -> str:
        """A partner's verified callback: ``completed`` settles the system (first one wins);
        progress reports are noted; duplicates and reports after the end change nothing."""
        return self._apply_partner_status(update)

    @partner_status.validator
    def _partner_status_is_ours(self, update: PartnerStatusUpdate) -> None:
        """Refused before it reaches history: not a partner's task, or another request's callback."""
        if self._state.signed_callbacks is False:
            raise ValueError("this system is not a partner reached over OpenDSR")
        if update.request_status not in PARTNER_STATUSES:
            raise ValueError(f"unknown request_status {update.request_status!r}")
        partner_request_id = self._state.partner_request_id
        if partner_request_id and update.subject_request_id != partner_request_id:
            raise ValueError("subject_request_id does not belong to this system's request")

    @workflow.signal
    def partner_status_queued(self, update: PartnerStatusUpdate) -> None:
        """The same verified callback, sent by Signal when no worker answered the Update in time
        (the gateway checked it; a Signal never blocks on workers)."""
        try:
            self._partner_status_is_ours(update)
        except ValueError:
            return
        self._apply_partner_status(update)

    def _apply_partner_status(self, update: PartnerStatusUpdate) -> str:
        if self._state.confirmation is not None:
            return "already final"
        answer = partner_confirmation(update, self._task.step.action, self._task.request_type)
        if answer is None:
            return "noted"
        self._state.confirmation = answer
        return answer.outcome

    @workflow.signal
    def retry(self, request: RetrySignal) -> None:
        self._retry_requested = True

    def _answered_or_reminded(self, reminders_seen: int) -> bool:
        return self._state.confirmation is not None or self._state.reminders > reminders_seen

    @workflow.signal
    def remind(self) -> None:
        self._state.reminders += 1

    @workflow.query
    def state(self) -> SystemTaskState:
        return self._state
