"""Wiring of the workflow worker: the deterministic side, no I/O of its own."""

from __future__ import annotations

from temporalio.client import Client
from temporalio.worker import Worker
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

from orchestrator.workflows.consent_batch import ConsentBatchWorkflow
from orchestrator.workflows.request import RequestWorkflow
from orchestrator.workflows.retention import RetentionExpiryWorkflow
from orchestrator.workflows.retention_sweep import LedgerRetentionWorkflow, RetentionSweepWorkflow
from orchestrator.workflows.system_task import SystemTaskWorkflow


def build_workflow_worker(client: Client, task_queue: str) -> Worker:
    return Worker(
        client,
        task_queue=task_queue,
        workflows=[
            RequestWorkflow,
            SystemTaskWorkflow,
            RetentionExpiryWorkflow,
            ConsentBatchWorkflow,
            RetentionSweepWorkflow,
            LedgerRetentionWorkflow,
        ],
        # The sandbox re-imports modules per workflow; passing opentelemetry through lets workflow
        # spans reach the process's tracer provider (otherwise they go to a no-op one).
        workflow_runner=SandboxedWorkflowRunner(
            restrictions=SandboxRestrictions.default.with_passthrough_modules("opentelemetry")
        ),
    )
