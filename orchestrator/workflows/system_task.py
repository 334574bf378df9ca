"""One downstream system's part in one request: act, then wait for its confirmation.

A child workflow per system keeps each history small and lets the fan-out run wide; its
id is derived from (request, system), so the intake can route a late confirmation to it.
"""

from __future__ import annotations

from datetime import timedelta
from functools import partial

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError
from temporalio.workflow import ParentClosePolicy

from orchestrator.workflows.models import ConfirmationSignal, RetrySignal
from orchestrator.workflows.retention import RetentionExpiryWorkflow, retention_workflow_id

with workflow.unsafe.imports_passed_through():
    from workers.messages import FINAL_OUTCOMES, SystemOutcomeInput, SystemResult, SystemTaskInput

# Downstream systems go down for minutes or hours: keep retrying, but back off to a minute.
# Configuration errors (a broken pack) are not retried; an operator fixes and retries them.
CONNECTOR_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(seconds=60),
    non_retryable_error_types=["ConnectorConfigError"],
)
LEDGER_RETRY = RetryPolicy(initial_interval=timedelta(seconds=1), maximum_interval=timedelta(seconds=30))


@workflow.defn(name="SystemTaskWorkflow")
class SystemTaskWorkflow:
    def __init__(self) -> None:
        self._confirmation: ConfirmationSignal | None = None
        self._retry_requested = False
        self._reminders = 0

    @workflow.run
    async def run(self, task: SystemTaskInput) -> SystemResult:
        result = await self._act(task)
        while result.outcome == "pending" and self._confirmation is None:
            # An asynchronous system answers on Kafka (or an operator confirms a manual step);
            # the intake or the API signals us. A reminder from the request re-sends the task.
            await workflow.wait_condition(partial(self._answered_or_reminded, self._reminders))
            if self._confirmation is None:
                result = await self._act(task)
        if self._confirmation is not None:
            answer = self._confirmation
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
        if result.outcome == "retained" and result.retained_until and task.step.rule.get("keep_recent"):
            # Kept only for a while: a detached workflow erases it when the period ends.
            await workflow.start_child_workflow(
                RetentionExpiryWorkflow.run,
                args=[task, result.retained_until],
                id=retention_workflow_id(task.request_id, task.step.system),
                parent_close_policy=ParentClosePolicy.ABANDON,
            )
        await workflow.wait_condition(workflow.all_handlers_finished)
        return result

    async def _act(self, task: SystemTaskInput) -> SystemResult:
        """Apply the connector; on a non-retryable failure, record it and wait for an operator."""
        while True:
            try:
                return await workflow.execute_activity(
                    "apply_system_action",
                    task,
                    result_type=SystemResult,
                    start_to_close_timeout=timedelta(seconds=30),
                    retry_policy=CONNECTOR_RETRY,
                )
            except ActivityError as err:
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
        return await workflow.execute_activity(
            "record_system_outcome",
            SystemOutcomeInput(task.request_id, task.tenant, task.request_type, result),
            result_type=SystemResult,
            start_to_close_timeout=timedelta(seconds=30),
            retry_policy=LEDGER_RETRY,
        )

    @workflow.signal
    def confirm(self, answer: ConfirmationSignal) -> None:
        """First final answer wins; duplicates and late repeats change nothing."""
        if self._confirmation is None and answer.outcome in FINAL_OUTCOMES:
            self._confirmation = answer

    @workflow.signal
    def retry(self, request: RetrySignal) -> None:
        self._retry_requested = True

    def _answered_or_reminded(self, reminders_seen: int) -> bool:
        return self._confirmation is not None or self._reminders > reminders_seen

    @workflow.signal
    def remind(self) -> None:
        self._reminders += 1
