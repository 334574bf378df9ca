"""Workflow inputs and state: one dataclass each, so fields can be added safely."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from schemas.vocabulary import PARTNER_CANCELLED_REASON, partner_outcome
    from workers.messages.requests import SystemResult, SystemStep, SystemTaskInput


def request_workflow_id(request_id: str) -> str:
    """Derived from the request_id only: no personal data in ids."""
    return f"privacy-request-{request_id}"


def consent_workflow_id(batch_id: str) -> str:
    """Derived from the batch id (itself from event ids): no personal data in ids."""
    return f"privacy-consent-batch-{batch_id}"


def system_workflow_id(request_id: str, system: str) -> str:
    return f"privacy-request-{request_id}/system/{system}"


@dataclass
class RequestInput:
    """Everything the request workflow needs, resolved by the intake from the policy pack."""

    request_id: str
    tenant: str
    request_type: str
    jurisdiction: str
    subject: dict[str, str]
    submitted_at: str
    due_at: str
    deadline_basis: str
    controller: dict[str, Any]
    steps: list[SystemStep]
    details: dict[str, Any] = field(default_factory=dict)
    subject_refs: list[str] = field(default_factory=list)
    # Why an operator must approve first (identity document, agent, minor), or None.
    verification_reason: str | None = None
    # The law's extension limit, if it allows one (GDPR: two more months).
    extendable_until: str | None = None
    # Why no extension is possible (the law allows none, or the tenant's promise caps it).
    no_extension_reason: str | None = None
    receipt_due_at: str | None = None  # when the law asks receipt to be confirmed (CCPA: 10 business days)
    remind_after: str | None = None  # ISO 8601 duration after the start: remind silent systems
    alert_before_due: str | None = None  # ISO 8601 duration before the due date: alert an operator
    free_copies: int | None = None  # access copies free of charge (fee rule), None when no fee rule
    # Automatic identity check: the system whose records must agree with every identity given.
    identity_match_step: SystemStep | None = None
    details_digest: str = ""
    # Countries personal data may go to (a policy's "no transfers outside the EU"); None: no limit.
    transfer_countries: list[str] | None = None
    transfer_rule: str = ""  # same subject, type and digest = a duplicate, merged after verification
    # Objections to these purposes are always honoured (direct marketing); others need a decision.
    absolute_objection_purposes: list[str] = field(default_factory=list)
    # The tenant's identity rule asks for a second factor: one identity alone waits for an operator.
    second_factor_required: bool = False
    # The policy reserves refusing a rectification (Jump: criminal investigations): an operator
    # decides before any system is changed.
    rectification_review: bool = False
    # The systems that link the subject's identifiers to one another (identity resolution).
    identity_sources: list[SystemStep] = field(default_factory=list)
    # An authorised agent vouched for less than the tenant's rule asks: the person may verify with
    # the controller until then (DRP need_user_verification); after it, the request is denied.
    user_verification_until: str | None = None

    def task_for(self, step: SystemStep, **extra: Any) -> SystemTaskInput:
        """One system's part of this request: the input of its workflow and activities."""
        return SystemTaskInput(
            self.request_id, self.tenant, self.request_type, self.subject, self.submitted_at, step, **extra
        )


@dataclass
class RequestState:
    """The whole state of a request run, readable by a query."""

    status: str = "received"
    flags: list[str] = field(default_factory=list)
    results: dict[str, SystemResult] = field(default_factory=dict)
    reason: str | None = None
    due_at: str = ""
    verification: OperatorDecision | None = None
    objection: OperatorDecision | None = None
    rectification: OperatorDecision | None = None
    cancelled: OperatorDecision | None = None
    holds_released: int = 0


@dataclass
class OperatorDecision:
    """An operator's decision on a request: who, what, why. ``decision`` is approve/deny,
    accept/refuse, or the action's own name (extend, cancel)."""

    actor: str
    decision: str
    reason: str = ""


@dataclass
class RequestOutcome:
    request_id: str
    status: str
    outcomes: dict[str, str] = field(default_factory=dict)


@dataclass
class ConfirmationSignal:
    """An asynchronous system's answer, routed by the intake from privacy.confirmations.v1."""

    outcome: str
    at: str
    evidence: dict[str, Any] = field(default_factory=dict)
    legal_basis: str | None = None
    retained_until: str | None = None
    reason: str | None = None
    record_count: int = 0


@dataclass
class PartnerStatusUpdate:
    """A partner's verified status callback, handed over by the callback gateway."""

    subject_request_id: str
    request_status: str  # pending | in_progress | completed | cancelled
    sent_time: str
    evidence: dict[str, Any] = field(default_factory=dict)  # partner, signature digest: no personal data


@dataclass
class RetrySignal:
    """An operator asks a failed system to be tried again: sent to the system's workflow, or,
    when that workflow was terminated or timed out, to the request's (``retry_system``) naming
    the ``system`` to start again."""

    reason: str = ""
    system: str = ""


# Events a system's workflow lets its history reach before it continues as new (a partner polled
# hourly for months would otherwise pile up tens of thousands: Temporal warns at 10,240 events).
SYSTEM_TASK_HISTORY_LIMIT = 2000


@dataclass
class SystemTaskState:
    """The whole state of one system's part in a request, carried across continue-as-new."""

    confirmation: ConfirmationSignal | None = None
    partner_request_id: str | None = None
    # What the connector said of the system when it acted (None until it has).
    withdrawable: bool = False
    signed_callbacks: bool | None = None
    reminders: int = 0
    # The pending answer being waited on when the run continued as new: the next run resumes
    # waiting instead of acting again.
    waiting: SystemResult | None = None
    runs_continued: int = 0
    history_limit: int = SYSTEM_TASK_HISTORY_LIMIT


def partner_confirmation(
    update: PartnerStatusUpdate, action: str, request_type: str
) -> ConfirmationSignal | None:
    """What a partner's verified status means for the system: its final answer, or None while
    the partner is still at work. The one translation, for the Update and the Signal alike."""
    outcome = partner_outcome(update.request_status, action, request_type)
    if outcome is None:
        return None
    evidence = {**update.evidence, "subject_request_id": update.subject_request_id,
                "request_status": update.request_status, "confirmed_by": "signed callback"}  # fmt: skip
    reason = PARTNER_CANCELLED_REASON if outcome == "refused" else None
    return ConfirmationSignal(outcome, update.sent_time, evidence, reason=reason)
