"""Erase what a system kept for a while (e.g. recent call recordings) once its period ends.

Started detached from the system's workflow (parent close policy ABANDON), so the request can
close with ``retained`` + until-when while this one waits on a durable timer, then erases and
updates the evidence to ``erased``.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from workers.activities import definitions
    from workers.messages.requests import SystemResult, SystemTaskInput

RETRY = RetryPolicy(initial_interval=timedelta(seconds=1), maximum_interval=timedelta(minutes=5))


def retention_workflow_id(request_id: str, system: str) -> str:
    return f"privacy-request-{request_id}/system/{system}/retention-end"


@workflow.defn(name="RetentionExpiryWorkflow")
class RetentionExpiryWorkflow:
    @workflow.run
    async def run(self, task: SystemTaskInput, retained_until: str) -> SystemResult:
        until = datetime.fromisoformat(retained_until)
        while True:
            wait = (until - workflow.now()).total_seconds()
            if wait > 0:
                await workflow.sleep(wait)
            result = await workflow.execute_activity(
                definitions.erase_after_retention,
                task,
                start_to_close_timeout=timedelta(seconds=60),
                retry_policy=RETRY,
            )
            if result.outcome != "retained" or not result.retained_until:
                return result
            until = datetime.fromisoformat(result.retained_until)  # a record kept longer: wait again
