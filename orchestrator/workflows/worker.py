"""Wiring of the worker: the workflows (deterministic, no I/O of their own) and the activities given."""

from __future__ import annotations

import compileall
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from temporalio.client import Client
from temporalio.worker import Worker
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

from orchestrator.workflows.consent_batch import ConsentBatchWorkflow
from orchestrator.workflows.request import RequestWorkflow
from orchestrator.workflows.retention import RetentionExpiryWorkflow
from orchestrator.workflows.retention_sweep import LedgerRetentionWorkflow, RetentionSweepWorkflow
from orchestrator.workflows.system_task import SystemTaskWorkflow
from orchestrator.workflows.worker_slots import under_way_first_tuner

# Deterministic helpers of the workflows, with no state of their own (dataclasses, pure rules,
# retry policies, search-attribute keys): imported once per process instead of once per workflow
# run. Re-importing them in each run's sandbox was ~20 % of the worker's CPU in a burst (py-spy,
# bench (f)). In the workflow tests and replays the workflow modules themselves are re-imported
# and checked each run; the worker shares them too (``SHARED_WORKFLOW_MODULES``).
PURE_WORKFLOW_HELPERS = tuple(
    f"orchestrator.workflows.{name}"
    for name in (
        "models", "rules", "retries", "search", "escalation", "lost_systems", "operator_updates",
        "identity_checks", "fairness",
    )
)

# What the worker's workflows share with the rest of the process: the workflow modules and what
# their payloads are made of (also the sandbox's ``sys.modules`` entries, which the payload
# converter reads a dataclass's annotations from).
SHARED_WORKFLOW_MODULES = ("orchestrator.workflows", "workers.messages", "workers.activities", "schemas")

# Every workflow the worker runs (the in-process tests and the replay test use the same list).
WORKFLOWS = (
    RequestWorkflow,
    SystemTaskWorkflow,
    RetentionExpiryWorkflow,
    ConsentBatchWorkflow,
    RetentionSweepWorkflow,
    LedgerRetentionWorkflow,
)


def build_workflow_worker(
    client: Client,
    task_queue: str,
    activities: Sequence[Callable[..., Any]] = (),
    max_concurrent_activities: int | None = None,
    *,
    max_cached_workflows: int = 1000,
) -> Worker:
    """The workflows' worker, with the activities beside them when given. One worker for both
    lets the server hand a workflow's activity straight back with the workflow task's answer
    (eager activity dispatch) instead of through the task queue: a round trip less per step.
    Requests under way are served before new ones are admitted (worker_slots). Runs beyond
    ``max_cached_workflows`` are evicted (least recently used) and replayed when next needed."""
    compile_workflow_modules()
    return Worker(
        client,
        task_queue=task_queue,
        workflows=list(WORKFLOWS),
        activities=list(activities),
        workflow_runner=sandboxed_runner(reimport_workflows=False),
        tuner=under_way_first_tuner(max_concurrent_activities or 100),
        max_cached_workflows=max_cached_workflows,
    )


def sandboxed_runner(*, reimport_workflows: bool = True) -> SandboxedWorkflowRunner:
    """The workflows' sandbox. Passing opentelemetry through lets workflow spans reach the
    process's tracer provider (otherwise they go to a no-op one).

    ``reimport_workflows`` (the workflow tests and the replay of every recorded history): each run
    imports the workflow modules afresh inside the sandbox, so a workflow reaching for the clock,
    randomness or I/O at import or run time fails there. The worker passes them through instead
    (``False``): imported once per process, a run costs its workflow object, not a copy of every
    module (bench (b): the worker's CPU for a burst of 100 UPJUNOO erasures 22.5 -> 19.8 s; bench
    (e): the worker's memory with 2,000 requests open +96 -> +55 MB, and no longer growing with
    more). Safe because those modules keep no state of their own and the strict runs above
    execute the same code on every path the histories record."""
    passed = PURE_WORKFLOW_HELPERS if reimport_workflows else SHARED_WORKFLOW_MODULES
    return SandboxedWorkflowRunner(
        restrictions=SandboxRestrictions.default.with_passthrough_modules("opentelemetry", *passed)
    )


def compile_workflow_modules() -> None:
    """Write the workflow modules' bytecode once, beside their sources. A sandbox that re-imports
    them (``sandboxed_runner``) does so for every workflow run; where bytecode is never written
    (``PYTHONDONTWRITEBYTECODE``, an editable checkout) each of those imports compiled the source
    anew — a tenth of the worker's CPU with thousands of runs (py-spy, bench (e)). A read-only
    install (the image, compiled by pip) needs none: failures are ignored."""
    compileall.compile_dir(Path(__file__).parent, quiet=2, maxlevels=0)
