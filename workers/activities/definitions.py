"""Every activity a workflow can call: its name, its one argument and its result, as typed stubs.

Workflows call these stubs (``workflow.execute_activity(definitions.apply_system_action, …)``),
never a string; the worker registers the implementations (methods of the classes beside this
module, each marked ``@implements(stub)``), and a test proves every stub here is registered with
the same types. This module imports messages only, so workflows reach no driver through it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from temporalio import activity

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
    SystemTaskInput,
)
from workers.messages.retention import (
    LedgerPurge,
    LedgerRetentionInput,
    RetentionRun,
    SweepBatch,
    SweepResult,
)

F = TypeVar("F", bound=Callable[..., Any])
STUBS: list[Callable[..., Any]] = []
IMPLEMENTS = "__implements_activity__"  # set on each implementation: the stub's name


def _stub(fn: F) -> F:
    STUBS.append(fn)
    return activity.defn(name=fn.__name__)(fn)


def name_of(stub: Callable[..., Any]) -> str:
    """The activity's name, as Temporal schedules and the worker registers it."""
    return stub.__name__


def implements(stub: Callable[..., Any]) -> Callable[[F], F]:
    """Register the decorated method as the implementation of ``stub`` (same name)."""

    def mark(fn: F) -> F:
        setattr(fn, IMPLEMENTS, name_of(stub))
        return activity.defn(name=name_of(stub))(fn)

    return mark


# -- request steps -------------------------------------------------------------------------
@_stub
async def record_request_status(change: RequestStatusChange) -> None:
    """Persist a request-level state change and publish it."""
    raise NotImplementedError


@_stub
async def acknowledge_receipt(change: RequestStatusChange) -> None:
    """Confirm receipt where the law asks for it (CCPA)."""
    raise NotImplementedError


@_stub
async def match_identities(task: SystemTaskInput) -> str | None:
    """Why the identities given point at different people, or None when they agree."""
    raise NotImplementedError


@_stub
async def resolve_identities(given: IdentityResolutionInput) -> IdentityResolution:
    """Every identifier the tenant's identity sources hold for the subject (evidence kept sealed)."""
    raise NotImplementedError


@_stub
async def discard_identity_document(request_id: str) -> None:
    """Delete the identity document once the verification decision is made."""
    raise NotImplementedError


@_stub
async def find_duplicate(query: DuplicateQuery) -> str | None:
    """An earlier open request of the same subject, type and details."""
    raise NotImplementedError


@_stub
async def legal_holds_for(query: SubjectQuery) -> list[LegalHold]:
    """The legal holds active on the subject."""
    raise NotImplementedError


@_stub
async def count_previous_copies(query: SubjectQuery) -> int:
    """How many access copies the subject already had (the fee rule)."""
    raise NotImplementedError


@_stub
async def apply_system_action(task: SystemTaskInput) -> SystemResult:
    """Run the step's connector once per (request, system)."""
    raise NotImplementedError


@_stub
async def record_system_outcome(given: SystemOutcomeInput) -> SystemResult:
    """Persist and publish a system's answer (first final answer wins)."""
    raise NotImplementedError


@_stub
async def cancel_partner_request(task: SystemTaskInput) -> dict[str, Any]:
    """The request was cancelled: withdraw what was sent to the system (a partner's request)."""
    raise NotImplementedError


@_stub
async def alert_operator(alert: OperatorAlert) -> None:
    """Tell operators which systems are silent, before or after the due date."""
    raise NotImplementedError


@_stub
async def erase_after_retention(task: SystemTaskInput) -> SystemResult:
    """Erase what a system kept once its retention period has ended."""
    raise NotImplementedError


# -- retention ---------------------------------------------------------------------------
@_stub
async def sweep_retention_batch(batch: SweepBatch) -> SweepResult:
    """Erase or anonymise one bounded batch of a retention rule's rows (or only count them)."""
    raise NotImplementedError


@_stub
async def record_retention_run(run: RetentionRun) -> None:
    """Keep a sweep run's evidence (counts) in the ledger and publish it."""
    raise NotImplementedError


@_stub
async def purge_ledger_copies(given: LedgerRetentionInput) -> LedgerPurge:
    """Purge the orchestrator's own copies whose period has ended; seal any still in clear."""
    raise NotImplementedError


@_stub
async def purge_subject_copies(query: SubjectQuery) -> LedgerPurge:
    """The person's erasure closed: purge every copy of their requests' personal data."""
    raise NotImplementedError


# -- reports -------------------------------------------------------------------------------
@_stub
async def compile_report(given: ReportInput) -> ReportSummary:
    """Build the access/portability report from every system's records."""
    raise NotImplementedError


@_stub
async def transfer_export(transfer: PortabilityTransfer) -> SystemResult:
    """Send the portability export straight to the named provider."""
    raise NotImplementedError


# -- consent batches -----------------------------------------------------------------------
@_stub
async def record_consent_batch(batch: ConsentBatch) -> None:
    """Keep the batch's changes and suppressions in the ledger."""
    raise NotImplementedError


@_stub
async def apply_consent_batch(work: ConsentSystemBatch) -> ConsentSystemOutcome:
    """One system acts on every withdrawal of the batch that concerns it."""
    raise NotImplementedError


@_stub
async def act_on_consent_batch(work: ConsentSystemBatch) -> ConsentSystemOutcome:
    """One system acts on the batch's withdrawals and, when its answer is final at once, its
    per-subject evidence is kept in the same activity (``recorded``); ``pending`` otherwise."""
    raise NotImplementedError


@_stub
async def record_consent_outcome(outcome: ConsentSystemOutcome) -> int:
    """Per-subject evidence of one system's answer for a batch; how many were kept now."""
    raise NotImplementedError
