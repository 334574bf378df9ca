"""The request workflow: fan out to every system in the plan, wait for all, close with evidence.

Deterministic: all I/O is in activities named by string; the plan was resolved from the
policy pack by the intake and arrives in the input, so history records which rules applied.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

from orchestrator.workflows import search
from orchestrator.workflows.models import RequestInput, RequestState, system_workflow_id
from orchestrator.workflows.system_task import SystemTaskWorkflow

with workflow.unsafe.imports_passed_through():
    from workers.messages import (
        ReportInput,
        ReportSummary,
        RequestStatusChange,
        SystemResult,
        SystemTaskInput,
    )

REPORTING_TYPES = ("access", "portability")
LEDGER_RETRY = RetryPolicy(initial_interval=timedelta(seconds=1), maximum_interval=timedelta(seconds=30))


@dataclass
class RequestOutcome:
    request_id: str
    status: str
    outcomes: dict[str, str] = field(default_factory=dict)
    report_records: int | None = None


@workflow.defn(name="RequestWorkflow")
class RequestWorkflow:
    def __init__(self) -> None:
        self._state = RequestState()

    @workflow.run
    async def run(self, request: RequestInput) -> RequestOutcome:
        await self._set_status(request, "in_progress")
        if not request.steps:
            await self._set_status(
                request,
                "rejected",
                reason=f"the {request.tenant} policy pack has no rule for {request.request_type} requests",
            )
            return RequestOutcome(request.request_id, "rejected")

        children = [
            workflow.execute_child_workflow(
                SystemTaskWorkflow.run,
                SystemTaskInput(
                    request_id=request.request_id,
                    tenant=request.tenant,
                    request_type=request.request_type,
                    subject=request.subject,
                    submitted_at=request.submitted_at,
                    step=step,
                ),
                id=system_workflow_id(request.request_id, step.system),
            )
            for step in request.steps
        ]
        results: list[SystemResult] = await asyncio.gather(*children)
        self._state.results = {r.system: r for r in results}

        report_records = None
        if request.request_type in REPORTING_TYPES:
            summary = await workflow.execute_activity(
                "compile_report",
                ReportInput(
                    request.request_id,
                    request.tenant,
                    request.request_type,
                    request.controller,
                    request.steps,
                ),
                result_type=ReportSummary,
                start_to_close_timeout=timedelta(minutes=1),
                retry_policy=LEDGER_RETRY,
            )
            report_records = summary.records

        await self._set_status(request, "completed")
        await workflow.wait_condition(workflow.all_handlers_finished)
        return RequestOutcome(
            request.request_id,
            "completed",
            {r.system: r.outcome for r in results},
            report_records,
        )

    async def _set_status(self, request: RequestInput, status: str, reason: str | None = None) -> None:
        self._state.status = status
        self._state.reason = reason
        workflow.upsert_search_attributes([search.STATUS.value_set(status)])
        await workflow.execute_activity(
            "record_request_status",
            RequestStatusChange(
                request_id=request.request_id,
                tenant=request.tenant,
                request_type=request.request_type,
                status=status,
                due_at=request.due_at,
                flags=list(self._state.flags),
                reason=reason,
            ),
            start_to_close_timeout=timedelta(seconds=30),
            retry_policy=LEDGER_RETRY,
        )

    @workflow.query
    def state(self) -> RequestState:
        return self._state
