"""RetentionSweepWorkflow and LedgerRetentionWorkflow, the real code on a real Temporal dev
server with stub activities: a sweep goes batch by batch from one cutoff until a batch says it
is finished, and records its counts once; an erasure that completes purges the orchestrator's
own copies of the person; anything retained with an until-date is erased when it passes."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from temporalio.client import WorkflowHandle

from orchestrator.workflows.retention import retention_workflow_id
from orchestrator.workflows.retention_sweep import LedgerRetentionWorkflow, RetentionSweepWorkflow
from tests.workflows.support import Harness, SystemScript, iso_in, now, request_input, result, step
from workers.activities import definitions
from workers.messages.requests import SystemResult
from workers.messages.retention import LedgerRetentionInput, RetentionRule, SweepInput, SweepResult


def rule(period: str = "P30D") -> RetentionRule:
    return RetentionRule(
        tenant="testco", name="old-calls", system="calls", connector={"kind": "files"}, table="recordings",
        counts_from={"column": "recorded_at", "event": "record_date"}, period=period, action="erase",
        citation="calls are kept 30 days", batch_size=2,
    )  # fmt: skip


async def sweep(harness: Harness, given: SweepInput) -> Any:
    handle = await harness.client.start_workflow(
        RetentionSweepWorkflow.run, given, id=f"sweep-{uuid.uuid4()}", task_queue=harness.task_queue
    )
    return await result(handle)


async def test_a_sweep_goes_batch_by_batch_from_one_cutoff_and_records_its_counts_once(
    harness: Harness,
) -> None:
    acts = harness.activities
    acts.sweeps = [
        SweepResult(2, 2, 0, ["2025-06-01T00:00:00+00:00", "(0,2)"], False),
        SweepResult(2, 1, 1, ["2025-06-20T00:00:00+00:00", "(0,4)"], False),
        SweepResult(1, 1, 0, ["2025-07-01T00:00:00+00:00", "(0,5)"], True),
    ]
    before = now()

    run = await sweep(harness, SweepInput(rule("P30D")))

    batches = acts.args(definitions.sweep_retention_batch)
    assert len(batches) == 3
    assert [b.cursor for b in batches] == [None, ["2025-06-01T00:00:00+00:00", "(0,2)"],
                                           ["2025-06-20T00:00:00+00:00", "(0,4)"]]  # fmt: skip
    assert len({b.cutoff for b in batches}) == 1, "every batch of a run asks about the same cutoff"
    cutoff = datetime.fromisoformat(batches[0].cutoff)
    assert before - timedelta(days=30, seconds=5) < cutoff < now() - timedelta(days=30) + timedelta(seconds=5)
    assert not any(b.dry_run for b in batches)
    [recorded] = acts.args(definitions.record_retention_run)
    assert (recorded.totals.examined, recorded.totals.acted, recorded.totals.skipped_held) == (5, 4, 1)
    assert recorded.totals.batches == 3
    assert recorded.run_id == run.run_id and recorded.run_id.startswith("sweep-")
    assert (recorded.tenant, recorded.rule, recorded.system, recorded.dry_run) == (
        "testco",
        "old-calls",
        "calls",
        False,
    )


async def test_a_dry_run_only_counts_and_says_so(harness: Harness) -> None:
    acts = harness.activities
    acts.sweeps = [SweepResult(3, 3, 0, ["2025-06-01T00:00:00+00:00", "(0,3)"], True)]

    run = await sweep(harness, SweepInput(rule(), dry_run=True))

    assert all(b.dry_run for b in acts.args(definitions.sweep_retention_batch))
    assert run.dry_run and run.totals.acted == 3


async def test_the_ledger_schedule_purges_the_orchestrators_own_copies(harness: Harness) -> None:
    given = LedgerRetentionInput(keep_copies={"testco": "PT5S"}, default="P30D")
    handle = await harness.client.start_workflow(
        LedgerRetentionWorkflow.run, given, id=f"ledger-{uuid.uuid4()}", task_queue=harness.task_queue
    )
    await result(handle)
    assert harness.activities.args(definitions.purge_ledger_copies) == [given]


async def test_a_completed_erasure_purges_the_persons_copies_and_an_access_does_not(harness: Harness) -> None:
    erasure = request_input("erasure", ("crm",))
    access = request_input("access", ("crm",))
    for request in (erasure, access):
        assert (await result(await harness.start_request(request))).status == "completed"

    [purge] = harness.activities.args(definitions.purge_subject_copies)
    assert purge.request_id == erasure.request_id
    assert purge.subject_refs == erasure.subject_refs and purge.tenant == erasure.tenant


async def test_data_retained_under_a_retain_rule_is_erased_when_its_until_date_passes(
    harness: Harness,
) -> None:
    """Not only recent recordings: an invoice kept for the legal period is erased at its end."""
    acts = harness.activities
    until = iso_in(1.5)
    acts.systems["billing"] = SystemScript("retained", retained_until=until)
    request = request_input("erasure", ())
    request.steps = [
        step("crm", "erase"),
        step("billing", "retain", legal_basis="accounting", retain_for="PT1S"),
    ]

    outcome = await result(await harness.start_request(request))
    assert outcome.outcomes == {"crm": "erased", "billing": "retained"}

    expiry: WorkflowHandle[Any, SystemResult] = harness.client.get_workflow_handle(
        retention_workflow_id(request.request_id, "billing"), result_type=SystemResult
    )
    assert (await result(expiry)).outcome == "erased"
    [call] = acts.called(definitions.erase_after_retention)
    assert call.at >= datetime.fromisoformat(until)
    assert call.arg.step.action == "retain"
