"""Record the workflow histories the replay test (test_replay.py) replays against current code.

    .venv/bin/python -m tests.workflows.record_histories [SCENARIO ...]

Runs a few scenarios — the real workflows with the stub activities of ``support.py`` — on a
fresh Temporal dev server, and writes every run of every workflow they started to
``tests/workflows/histories/<scenario>.<WorkflowType>.<n>.json``. Subjects are fake
(``ada@example.org``); payloads use the default converter (no encryption), as replay needs.

Re-record only when a change is meant to break running workflows' determinism and is safe to
(no such runs in production, or a ``workflow.patched`` path replaces the old one); otherwise
keep the old histories and add new ones beside them, so both paths stay proven.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import shutil
import sys
import uuid
from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path

from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from infra.binaries import temporal_cli
from orchestrator.workflows import search
from orchestrator.workflows.consent_batch import ConsentBatchWorkflow
from orchestrator.workflows.models import (
    ConfirmationSignal,
    OperatorDecision,
    PartnerStatusUpdate,
    RetrySignal,
    SystemTaskState,
    consent_workflow_id,
    system_workflow_id,
)
from orchestrator.workflows.request import RequestWorkflow
from orchestrator.workflows.retention import retention_workflow_id
from orchestrator.workflows.retention_sweep import LedgerRetentionWorkflow, RetentionSweepWorkflow
from orchestrator.workflows.system_task import SystemTaskWorkflow
from tests.workflows.support import (
    Harness,
    SystemScript,
    eventually,
    iso_in,
    now,
    request_input,
    result,
    running,
    settle,
    step,
    task_input,
)
from workers.activities import definitions
from workers.messages.consent import BatchConfirmation, ConsentBatch, SystemShare
from workers.messages.requests import LegalHold
from workers.messages.retention import LedgerRetentionInput, RetentionRule, SweepInput, SweepResult

HISTORIES = Path(__file__).parent / "histories"
Scenario = Callable[[Harness], Awaitable[None]]


async def erasure_with_late_answer_and_retention(harness: Harness) -> None:
    """Three systems: one at once, one confirming later, one retaining recent records."""
    acts = harness.activities
    acts.systems["warehouse"] = SystemScript("pending")
    acts.systems["calls"] = SystemScript("retained", retained_until=iso_in(1))
    request = request_input("erasure", ("crm", "warehouse"))
    request.steps.append(step("calls", "retain", keep_recent=True))
    handle = await harness.start_request(request)
    warehouse = harness.client.get_workflow_handle(system_workflow_id(request.request_id, "warehouse"))
    await eventually(lambda: len(acts.args(definitions.apply_system_action)) == 3)
    await settle(warehouse)
    await warehouse.signal(SystemTaskWorkflow.confirm, ConfirmationSignal("erased", now().isoformat()))
    await result(handle)
    await result(harness.client.get_workflow_handle(retention_workflow_id(request.request_id, "calls")))


async def access_after_verification(harness: Harness) -> None:
    request = request_input("access", ("crm",), verification_reason="identity document to check")
    handle = await harness.start_request(request)
    await settle(handle)
    await handle.execute_update(RequestWorkflow.verify, OperatorDecision("dpo@test", "approve", ""))
    await result(handle)


async def person_verifies_in_time(harness: Harness) -> None:
    """DRP need_user_verification: the person verifies before the window ends (its timer withdrawn)."""
    reason = "the person must verify their identity with the controller (not verified: email)"
    request = request_input(
        "access", ("crm",), verification_reason=reason, user_verification_until=iso_in(600)
    )
    handle = await harness.start_request(request)
    await settle(handle)
    person = OperatorDecision("data subject (DRP verification page)", "approve", "customer number matched")
    await handle.execute_update(RequestWorkflow.verify, person)
    await result(handle)


async def person_never_verifies(harness: Harness) -> None:
    """DRP need_user_verification: the window lapses, the workflow denies the verification."""
    reason = "the person must verify their identity with the controller (not verified: email)"
    await result(
        await harness.start_request(
            request_input("erasure", ("crm",), verification_reason=reason, user_verification_until=iso_in(1))
        )
    )


async def partner_continues_as_new(harness: Harness) -> None:
    acts = harness.activities
    acts.systems["partner"] = SystemScript("pending", signed_callbacks=True, partner_request_id="srq-1")
    task = task_input("partner", "erase")
    partner = dataclasses.replace(
        step("partner", "erase"), connector={"kind": "opendsr", "poll_every": "PT1S"}
    )
    task = dataclasses.replace(task, step=partner)
    handle = await harness.client.start_workflow(
        SystemTaskWorkflow.run,
        dataclasses.replace(task, resume={"history_limit": 25}),  # months of hourly polls, in seconds
        id=system_workflow_id(task.request_id, "partner"),
        task_queue=harness.task_queue,
    )

    async def continued() -> bool:
        state: SystemTaskState = await handle.query(SystemTaskWorkflow.state)
        return state.runs_continued >= 1

    await eventually(continued)
    update = PartnerStatusUpdate("srq-1", "completed", now().isoformat(), {"partner": "p"})
    await handle.execute_update(SystemTaskWorkflow.partner_status, update)
    await result(handle)


async def terminated_system_retried(harness: Harness) -> None:
    acts = harness.activities
    acts.systems["warehouse"] = SystemScript("pending")
    request = request_input("erasure", ("crm", "warehouse"))
    handle = await harness.start_request(request)
    child = harness.client.get_workflow_handle(system_workflow_id(request.request_id, "warehouse"))
    await eventually(lambda: len(acts.args(definitions.apply_system_action)) == 2)
    await child.terminate(reason="recorded scenario")
    await eventually(lambda: bool(acts.args(definitions.alert_operator)))
    acts.systems["warehouse"] = SystemScript()
    await handle.signal(RequestWorkflow.retry_system, RetrySignal("restart", "warehouse"))
    await result(handle)


async def consent_batch(harness: Harness) -> None:
    harness.activities.consent["mailer"] = "pending"
    batch = ConsentBatch(
        batch_id=str(uuid.uuid4()),
        tenant="testco",
        changes=2,
        systems=[
            SystemShare(step("crm", "stop_processing"), [0, 1]),
            SystemShare(step("mailer", "stop_processing"), [1]),
        ],
    )
    handle = await harness.client.start_workflow(
        ConsentBatchWorkflow.run, batch, id=consent_workflow_id(batch.batch_id), task_queue=harness.task_queue
    )
    # Recorded before act_on_consent_batch: record_consent_outcome for crm. Today the same
    # batch (changes not recorded by the intake) goes through act_on_consent_batch instead.
    await eventually(
        lambda: bool(harness.activities.args(definitions.record_consent_outcome))
        or len(harness.activities.args(definitions.act_on_consent_batch)) == 2
    )
    await settle(handle)
    answer = BatchConfirmation("mailer", "consent_withdrawn", now().isoformat())
    await handle.signal(ConsentBatchWorkflow.confirm_system, answer)
    await result(handle)


async def consent_batch_act_and_record(harness: Harness) -> None:
    """Changes recorded by the intake; crm's evidence kept by the activity that acted, mailer's
    after its confirmation, and a system failing for good recorded ``failed``."""
    harness.activities.consent["mailer"] = "pending"
    harness.activities.consent["warehouse"] = "broken"
    batch = ConsentBatch(
        batch_id=str(uuid.uuid4()),
        tenant="testco",
        changes=2,
        systems=[
            SystemShare(step("crm", "stop_processing"), [0, 1]),
            SystemShare(step("mailer", "stop_processing"), [1]),
            SystemShare(step("warehouse", "stop_processing"), [0]),
        ],
        recorded=True,
    )
    handle = await harness.client.start_workflow(
        ConsentBatchWorkflow.run, batch, id=consent_workflow_id(batch.batch_id), task_queue=harness.task_queue
    )
    await eventually(lambda: bool(harness.activities.args(definitions.record_consent_outcome)))
    await settle(handle)
    answer = BatchConfirmation("mailer", "consent_withdrawn", now().isoformat())
    await handle.signal(ConsentBatchWorkflow.confirm_system, answer)
    await result(handle)


async def retention_sweep(harness: Harness) -> None:
    harness.activities.sweeps = [
        SweepResult(2, 2, 0, ["2025-06-01T00:00:00+00:00", "(0,2)"], False),
        SweepResult(1, 0, 1, ["2025-06-20T00:00:00+00:00", "(0,3)"], True),
    ]
    rule = RetentionRule(
        tenant="testco", name="old-calls", system="calls", connector={"kind": "files"}, table="recordings",
        counts_from={"column": "recorded_at", "event": "record_date"}, period="P30D", action="erase",
        citation="calls are kept 30 days", batch_size=2,
    )  # fmt: skip
    handle = await harness.client.start_workflow(
        RetentionSweepWorkflow.run,
        SweepInput(rule),
        id=f"sweep-{uuid.uuid4()}",
        task_queue=harness.task_queue,
    )
    await result(handle)
    ledger = await harness.client.start_workflow(
        LedgerRetentionWorkflow.run,
        LedgerRetentionInput(keep_copies={"testco": "PT5S"}, default="P30D"),
        id=f"ledger-{uuid.uuid4()}",
        task_queue=harness.task_queue,
    )
    await result(ledger)


async def erasure_on_systems_answering_now(harness: Harness) -> None:
    """Issue 13's path: systems answering in the call acted on by the request itself (one fails
    first and is retried by the operator, one retains), beside one answering later."""
    acts = harness.activities
    acts.systems["crm"] = SystemScript(fail_first=1)
    acts.systems["calls"] = SystemScript("retained", retained_until=iso_in(1))
    acts.systems["warehouse"] = SystemScript("pending")
    request = request_input("erasure", ("crm", "calls", "warehouse"))
    for answering_now in request.steps[:2]:
        answering_now.answers_later = False
    handle = await harness.start_request(request)
    warehouse = harness.client.get_workflow_handle(system_workflow_id(request.request_id, "warehouse"))
    await eventually(lambda: len(acts.args(definitions.apply_system_action)) == 3)
    await eventually(lambda: bool(acts.args(definitions.record_system_outcome)))
    await settle(warehouse)
    await warehouse.signal(SystemTaskWorkflow.confirm, ConfirmationSignal("erased", now().isoformat()))
    await handle.signal(RequestWorkflow.retry_system, RetrySignal("pack fixed", "crm"))
    await result(handle)
    await result(harness.client.get_workflow_handle(retention_workflow_id(request.request_id, "calls")))


async def erasure_held_with_local_ledger_steps(harness: Harness) -> None:
    """The ledger's short steps as local activities: a legal hold read, waited on and released,
    statuses recorded, a system answering in the call and one answering later."""
    acts = harness.activities
    acts.holds = [LegalHold("hold-1", "pending litigation", "dpo@test", now().isoformat())]
    acts.systems["warehouse"] = SystemScript("pending")
    request = request_input("erasure", ("crm", "warehouse"))
    request.steps[0].answers_later = False
    handle = await harness.start_request(request)
    await eventually(lambda: any("on_hold" in c.flags for c in acts.args(definitions.record_request_status)))
    await settle(handle)
    acts.holds = []
    await handle.signal(RequestWorkflow.hold_released)
    warehouse = harness.client.get_workflow_handle(system_workflow_id(request.request_id, "warehouse"))
    await eventually(lambda: len(acts.args(definitions.apply_system_action)) == 2)
    await settle(warehouse)
    await warehouse.signal(SystemTaskWorkflow.confirm, ConfirmationSignal("erased", now().isoformat()))
    await result(handle)


async def late_answer_recorded_locally(harness: Harness) -> None:
    """The first scenario again, a system's answer now kept by a local activity (patch
    ``system-task-outcome-recorded-locally``): recorded under its own name beside the old one."""
    await erasure_with_late_answer_and_retention(harness)


SCENARIOS: list[Scenario] = [
    erasure_with_late_answer_and_retention,
    access_after_verification,
    person_verifies_in_time,
    person_never_verifies,
    partner_continues_as_new,
    terminated_system_retried,
    consent_batch,
    consent_batch_act_and_record,
    retention_sweep,
    erasure_on_systems_answering_now,
    erasure_held_with_local_ledger_steps,
    late_answer_recorded_locally,
]


async def record_scenario(client: Client, scenario: Scenario, out: Path) -> list[Path]:
    """Run one scenario on its own task queue, then write each run of each workflow it started."""
    async with running(client) as harness:
        await scenario(harness)
    written = []
    counts: dict[str, int] = {}
    executions = [e async for e in client.list_workflows(f'TaskQueue="{harness.task_queue}"')]
    for execution in sorted(executions, key=lambda e: (e.start_time, e.workflow_type)):
        handle = client.get_workflow_handle(execution.id, run_id=execution.run_id)
        history = await handle.fetch_history()
        n = counts[execution.workflow_type] = counts.get(execution.workflow_type, 0) + 1
        path = out / f"{scenario.__name__}.{execution.workflow_type}.{n}.json"
        document = {"workflow_id": execution.id, "history": history.to_json_dict()}
        path.write_text(json.dumps(document, indent=1, sort_keys=True) + "\n")
        written.append(path)
    return written


async def record_all(out: Path = HISTORIES, only: list[str] | None = None) -> list[Path]:
    """Every scenario (the folder is written anew), or only the named ones (added beside the
    histories already kept, which stay proof that older runs still replay)."""
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=temporal_cli(),
        search_attributes=list(search.ALL),
        dev_server_startup_timeout=timedelta(seconds=60),
        dev_server_log_level="error",
    )
    try:
        if only is None:
            shutil.rmtree(out, ignore_errors=True)
        out.mkdir(parents=True, exist_ok=True)
        written = []
        for scenario in SCENARIOS:
            if only is None or scenario.__name__ in only:
                written += await record_scenario(env.client, scenario, out)
        return written
    finally:
        await env.shutdown()


def main() -> int:
    only = sys.argv[1:] or None  # scenario names: record only those
    for path in asyncio.run(record_all(only=only)):
        print(path.relative_to(Path.cwd()) if path.is_relative_to(Path.cwd()) else path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
