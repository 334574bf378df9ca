"""Stub activities and helpers for running the real workflows against a real Temporal dev server.

Every stub is registered under the name of its typed stub in ``workers.activities.definitions``
(``definitions.name_of``), so a renamed activity breaks these tests instead of silently passing.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from temporalio import activity
from temporalio.client import Client, WorkflowExecutionStatus, WorkflowHandle
from temporalio.common import SearchAttributePair, TypedSearchAttributes
from temporalio.exceptions import ApplicationError
from temporalio.worker import Worker

from orchestrator.workflows import search
from orchestrator.workflows.models import RequestInput, RequestOutcome, request_workflow_id
from orchestrator.workflows.request import RequestWorkflow
from orchestrator.workflows.worker import WORKFLOWS, sandboxed_runner
from schemas.vocabulary import done_outcome
from workers.activities import definitions
from workers.activities.definitions import name_of
from workers.messages.consent import ConsentBatch, ConsentSystemBatch, ConsentSystemOutcome
from workers.messages.requests import (
    DuplicateQuery,
    IdentityResolution,
    IdentityResolutionInput,
    LegalHold,
    OperatorAlert,
    PortabilityTransfer,
    ReportInput,
    ReportSummary,
    RequestStatusChange,
    SubjectQuery,
    SystemOutcomeInput,
    SystemResult,
    SystemStep,
    SystemTaskInput,
)
from workers.messages.retention import (
    LedgerPurge,
    LedgerRetentionInput,
    RetentionRun,
    SweepBatch,
    SweepResult,
)

TIMEOUT = 30.0  # generous: a loaded 2-core machine
# The action a system takes for each request type; a type missing here gets ``notify``.
ACTION_FOR = {
    "access": "export",
    "portability": "export",
    "erasure": "erase",
    "rectification": "rectify",
    "restriction": "restrict",
    "objection": "stop_processing",
    "consent_withdrawal": "stop_processing",
}


def now() -> datetime:
    return datetime.now(UTC)


def iso_in(seconds: float) -> str:
    return (now() + timedelta(seconds=seconds)).isoformat()


# -- scripts --------------------------------------------------------------------------------
@dataclass
class SystemScript:
    """How one system answers ``apply_system_action``."""

    outcome: str = "done"  # "done": the action's own outcome; "pending": it answers later; or any
    withdrawable: bool = False
    signed_callbacks: bool = False
    partner_request_id: str | None = None
    retained_until: str | None = None
    fail_first: int = 0  # non-retryable failures (ConnectorConfigError) before it works


@dataclass
class Call:
    name: str
    arg: Any
    at: datetime


class Activities:
    """Stub implementations of every activity in ``definitions.STUBS``: they record each call
    and answer from the scripts set by the test."""

    def __init__(self) -> None:
        self.calls: list[Call] = []
        self.systems: dict[str, SystemScript] = {}
        self.holds: list[LegalHold] = []
        self.previous_copies = 0
        self.retention: list[SystemResult] = []  # erase_after_retention answers, in order; then erased
        # apply/act_on_consent_batch outcome per system (default withdrawn; "broken": fails for good)
        self.consent: dict[str, str] = {}
        self.resolution = IdentityResolution()  # what resolve_identities answers
        self.resolution_broken = False  # resolve_identities fails as a broken pack does
        self.sweeps: list[SweepResult] = []  # sweep_retention_batch answers, in order; then finished
        self._blocks: list[tuple[str, Callable[[Any], bool], asyncio.Event]] = []

    # -- test side ------------------------------------------------------------------------
    def args(self, stub: Callable[..., Any]) -> list[Any]:
        name = name_of(stub)
        return [call.arg for call in self.calls if call.name == name]

    def called(self, stub: Callable[..., Any]) -> list[Call]:
        name = name_of(stub)
        return [call for call in self.calls if call.name == name]

    def block(self, stub: Callable[..., Any], when: Callable[[Any], bool]) -> asyncio.Event:
        """Calls of ``stub`` whose argument matches wait until the returned event is set."""
        event = asyncio.Event()
        self._blocks.append((name_of(stub), when, event))
        return event

    def release_all(self) -> None:
        for _, _, event in self._blocks:
            event.set()

    def all(self) -> list[Callable[..., Any]]:
        return [
            self.record_request_status,
            self.acknowledge_receipt,
            self.match_identities,
            self.resolve_identities,
            self.discard_identity_document,
            self.find_duplicate,
            self.legal_holds_for,
            self.count_previous_copies,
            self.apply_system_action,
            self.record_system_outcome,
            self.cancel_partner_request,
            self.alert_operator,
            self.erase_after_retention,
            self.compile_report,
            self.transfer_export,
            self.record_consent_batch,
            self.apply_consent_batch,
            self.act_on_consent_batch,
            self.record_consent_outcome,
            self.sweep_retention_batch,
            self.record_retention_run,
            self.purge_ledger_copies,
            self.purge_subject_copies,
        ]

    async def _enter(self, stub: Callable[..., Any], arg: Any) -> None:
        name = name_of(stub)
        self.calls.append(Call(name, arg, now()))
        for blocked, when, event in self._blocks:
            if blocked == name and when(arg):
                await event.wait()

    # -- the stubs ------------------------------------------------------------------------
    @activity.defn(name=name_of(definitions.record_request_status))
    async def record_request_status(self, change: RequestStatusChange) -> None:
        await self._enter(definitions.record_request_status, change)

    @activity.defn(name=name_of(definitions.acknowledge_receipt))
    async def acknowledge_receipt(self, change: RequestStatusChange) -> None:
        await self._enter(definitions.acknowledge_receipt, change)

    @activity.defn(name=name_of(definitions.match_identities))
    async def match_identities(self, task: SystemTaskInput) -> str | None:
        await self._enter(definitions.match_identities, task)
        return None

    @activity.defn(name=name_of(definitions.resolve_identities))
    async def resolve_identities(self, given: IdentityResolutionInput) -> IdentityResolution:
        await self._enter(definitions.resolve_identities, given)
        if self.resolution_broken:
            raise ApplicationError("invalid SQL identifier", type="ConnectorConfigError", non_retryable=True)
        return self.resolution

    @activity.defn(name=name_of(definitions.discard_identity_document))
    async def discard_identity_document(self, request_id: str) -> None:
        await self._enter(definitions.discard_identity_document, request_id)

    @activity.defn(name=name_of(definitions.find_duplicate))
    async def find_duplicate(self, query: DuplicateQuery) -> str | None:
        await self._enter(definitions.find_duplicate, query)
        return None

    @activity.defn(name=name_of(definitions.legal_holds_for))
    async def legal_holds_for(self, query: SubjectQuery) -> list[LegalHold]:
        await self._enter(definitions.legal_holds_for, query)
        return list(self.holds)

    @activity.defn(name=name_of(definitions.count_previous_copies))
    async def count_previous_copies(self, query: SubjectQuery) -> int:
        await self._enter(definitions.count_previous_copies, query)
        return self.previous_copies

    @activity.defn(name=name_of(definitions.apply_system_action))
    async def apply_system_action(self, task: SystemTaskInput) -> SystemResult:
        await self._enter(definitions.apply_system_action, task)
        step = task.step
        script = self.systems.setdefault(step.system, SystemScript())
        if script.fail_first > 0:
            script.fail_first -= 1
            raise ApplicationError("the pack is broken", type="ConnectorConfigError", non_retryable=True)
        outcome = done_outcome(step.action, task.request_type) if script.outcome == "done" else script.outcome
        evidence: dict[str, Any] = {"stub": True}
        if script.partner_request_id:
            evidence["subject_request_id"] = script.partner_request_id
        return SystemResult(
            system=step.system,
            action=step.action,
            outcome=outcome,
            confirmed_at=None if outcome == "pending" else now().isoformat(),
            evidence=evidence,
            retained_until=script.retained_until,
            withdrawable=script.withdrawable,
            signed_callbacks=script.signed_callbacks,
        )

    @activity.defn(name=name_of(definitions.record_system_outcome))
    async def record_system_outcome(self, given: SystemOutcomeInput) -> SystemResult:
        await self._enter(definitions.record_system_outcome, given)
        return given.result

    @activity.defn(name=name_of(definitions.cancel_partner_request))
    async def cancel_partner_request(self, task: SystemTaskInput) -> dict[str, Any]:
        await self._enter(definitions.cancel_partner_request, task)
        return {"withdrawn": task.step.system}

    @activity.defn(name=name_of(definitions.alert_operator))
    async def alert_operator(self, alert: OperatorAlert) -> None:
        await self._enter(definitions.alert_operator, alert)

    @activity.defn(name=name_of(definitions.erase_after_retention))
    async def erase_after_retention(self, task: SystemTaskInput) -> SystemResult:
        await self._enter(definitions.erase_after_retention, task)
        if self.retention:
            return self.retention.pop(0)
        return SystemResult(task.step.system, task.step.action, "erased", now().isoformat())

    @activity.defn(name=name_of(definitions.compile_report))
    async def compile_report(self, given: ReportInput) -> ReportSummary:
        await self._enter(definitions.compile_report, given)
        return ReportSummary(given.request_id, len(given.steps), 0)

    @activity.defn(name=name_of(definitions.transfer_export))
    async def transfer_export(self, transfer: PortabilityTransfer) -> SystemResult:
        await self._enter(definitions.transfer_export, transfer)
        return SystemResult("transfer", "transfer", "exported", now().isoformat(), {"to": "destination"})

    @activity.defn(name=name_of(definitions.record_consent_batch))
    async def record_consent_batch(self, batch: ConsentBatch) -> None:
        await self._enter(definitions.record_consent_batch, batch)

    @activity.defn(name=name_of(definitions.apply_consent_batch))
    async def apply_consent_batch(self, work: ConsentSystemBatch) -> ConsentSystemOutcome:
        await self._enter(definitions.apply_consent_batch, work)
        outcome = self.consent.get(work.step.system, "consent_withdrawn")
        return ConsentSystemOutcome(
            work.batch_id, work.tenant, work.step.system, outcome, now().isoformat(), work.entry_indexes
        )

    @activity.defn(name=name_of(definitions.act_on_consent_batch))
    async def act_on_consent_batch(self, work: ConsentSystemBatch) -> ConsentSystemOutcome:
        await self._enter(definitions.act_on_consent_batch, work)
        outcome = self.consent.get(work.step.system, "consent_withdrawn")
        if outcome == "broken":
            raise ApplicationError("the pack is broken", type="ConnectorConfigError", non_retryable=True)
        if outcome == "pending":
            return ConsentSystemOutcome(
                work.batch_id, work.tenant, work.step.system, outcome, now().isoformat(), work.entry_indexes
            )
        return ConsentSystemOutcome(
            work.batch_id, work.tenant, work.step.system, outcome, now().isoformat(), [], recorded=True
        )

    @activity.defn(name=name_of(definitions.record_consent_outcome))
    async def record_consent_outcome(self, outcome: ConsentSystemOutcome) -> int:
        await self._enter(definitions.record_consent_outcome, outcome)
        return len(outcome.entry_indexes)

    @activity.defn(name=name_of(definitions.sweep_retention_batch))
    async def sweep_retention_batch(self, batch: SweepBatch) -> SweepResult:
        await self._enter(definitions.sweep_retention_batch, batch)
        if self.sweeps:
            return self.sweeps.pop(0)
        return SweepResult(0, 0, 0, batch.cursor, True)

    @activity.defn(name=name_of(definitions.record_retention_run))
    async def record_retention_run(self, run: RetentionRun) -> None:
        await self._enter(definitions.record_retention_run, run)

    @activity.defn(name=name_of(definitions.purge_ledger_copies))
    async def purge_ledger_copies(self, given: LedgerRetentionInput) -> LedgerPurge:
        await self._enter(definitions.purge_ledger_copies, given)
        return LedgerPurge(at=now().isoformat())

    @activity.defn(name=name_of(definitions.purge_subject_copies))
    async def purge_subject_copies(self, query: SubjectQuery) -> LedgerPurge:
        await self._enter(definitions.purge_subject_copies, query)
        return LedgerPurge(at=now().isoformat())


# -- inputs ---------------------------------------------------------------------------------
def step(system: str, action: str, **rule: Any) -> SystemStep:
    return SystemStep(
        system, action, connector={"kind": "sql"}, rule={"action": action, "citation": "test", **rule}
    )


def request_input(
    request_type: str = "erasure", systems: tuple[str, ...] = ("crm",), **change: Any
) -> RequestInput:
    """A request as the intake would resolve it: due in 30 days, one step per system."""
    submitted = now()
    action = ACTION_FOR.get(request_type, "notify")
    value = RequestInput(
        request_id=str(uuid.uuid4()),
        tenant="testco",
        request_type=request_type,
        jurisdiction="EU",
        subject={"email": "ada@example.org"},
        submitted_at=submitted.isoformat(),
        due_at=(submitted + timedelta(days=30)).isoformat(),
        deadline_basis="test",
        controller={"name": "Test Co"},
        steps=[step(system, action) for system in systems],
        subject_refs=["ref-ada"],
    )
    return dataclasses.replace(value, **change)


def task_input(system: str = "crm", action: str = "erase", request_type: str = "erasure") -> SystemTaskInput:
    return SystemTaskInput(
        str(uuid.uuid4()), "testco", request_type, {"email": "ada@example.org"}, now().isoformat(),
        step(system, action),
    )  # fmt: skip


# -- running --------------------------------------------------------------------------------
@dataclass
class Harness:
    client: Client
    task_queue: str
    activities: Activities
    started: list[WorkflowHandle[Any, Any]] = field(default_factory=list)

    async def start_request(self, request: RequestInput) -> WorkflowHandle[RequestWorkflow, RequestOutcome]:
        """Started as the intake starts it: same id scheme, same search attributes."""
        attributes = TypedSearchAttributes(
            [
                SearchAttributePair(search.TENANT, request.tenant),
                SearchAttributePair(search.REQUEST_TYPE, request.request_type),
                SearchAttributePair(search.JURISDICTION, request.jurisdiction),
                SearchAttributePair(search.STATUS, "received"),
                SearchAttributePair(search.DUE_AT, datetime.fromisoformat(request.due_at)),
                SearchAttributePair(search.OVERDUE, False),
            ]
        )
        handle = await self.client.start_workflow(
            RequestWorkflow.run,
            request,
            id=request_workflow_id(request.request_id),
            task_queue=self.task_queue,
            search_attributes=attributes,
        )
        self.started.append(handle)
        return handle


@asynccontextmanager
async def running(client: Client) -> AsyncIterator[Harness]:
    """A worker on a fresh task queue with the real workflows (sandboxed as in production) and
    the stub activities."""
    activities = Activities()
    harness = Harness(client, f"workflow-tests-{uuid.uuid4()}", activities)
    worker = Worker(
        client,
        task_queue=harness.task_queue,
        workflows=list(WORKFLOWS),
        activities=activities.all(),
        workflow_runner=sandboxed_runner(),
        graceful_shutdown_timeout=timedelta(seconds=1),
    )
    try:
        async with worker:
            yield harness
    finally:
        activities.release_all()


# -- waiting --------------------------------------------------------------------------------
async def eventually(
    check: Callable[[], bool | Awaitable[bool]], what: str = "condition", timeout: float = TIMEOUT
) -> None:
    """Poll ``check`` until it holds, or fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if not isinstance(result, bool):
            result = await result
        if result:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        await asyncio.sleep(0.05)


async def idle(handle: WorkflowHandle[Any, Any]) -> bool:
    """Closed, or open with nothing to do: no workflow task and no activity pending (waiting on
    a signal, an update or a timer)."""
    description = await handle.describe()
    if description.status != WorkflowExecutionStatus.RUNNING:
        return True
    raw = description.raw_description
    return not raw.pending_activities and not raw.HasField("pending_workflow_task")


async def settle(handle: WorkflowHandle[Any, Any], timeout: float = TIMEOUT) -> None:
    """Wait until the workflow is idle (see ``idle``)."""
    await eventually(lambda: idle(handle), "the workflow to settle", timeout)


async def result(handle: WorkflowHandle[Any, Any], timeout: float = TIMEOUT) -> Any:
    return await asyncio.wait_for(handle.result(), timeout)
