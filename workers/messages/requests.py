"""The small dataclasses that activities and child workflows take and return.

One dataclass per call so fields can be added later without breaking running histories.
Subject identities travel only inside these payloads (encrypted by the payload codec),
never in ids, search attributes or logs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from schemas.identity import normalise_identity
from schemas.vocabulary import FINAL_OUTCOMES


@dataclass
class SystemStep:
    """What one system must do for one request, resolved from the policy pack."""

    system: str
    action: str  # one of schemas.vocabulary.ACTIONS
    connector: dict[str, Any]
    rule: dict[str, Any]  # the pack rule, with its citation
    # What the subject is told about this system in an access report (Art. 15 GDPR).
    disclosure: dict[str, Any] = field(default_factory=dict)
    # The connector's capability, set by the intake from the system's kind: False when the
    # system answers in the call itself (sql, files, http), so the request acts on it directly
    # instead of through a child workflow. True (a child that can wait) for older inputs.
    answers_later: bool = True


@dataclass
class SystemTaskInput:
    """Input of one system's child workflow and of its connector activity."""

    request_id: str
    tenant: str
    request_type: str
    subject: dict[str, str]
    submitted_at: str
    step: SystemStep
    details: dict[str, Any] = field(default_factory=dict)  # corrections, purposes, destination
    # A continued run's carried state (orchestrator.workflows.models.SystemTaskState as a dict):
    # set only by the workflow when it continues as new; connectors never see it.
    resume: dict[str, Any] | None = None
    # Further identifiers the tenant's identity sources hold for the subject (identity
    # resolution), by kind; ``subject`` stays what was given, so older histories still decode.
    linked: dict[str, list[str]] = field(default_factory=dict)

    def identities(self) -> dict[str, list[str]]:
        """Every identifier of the subject, given and linked, normalised, by kind: what
        connectors search by."""
        found: dict[str, list[str]] = {}
        given = {kind: [value] for kind, value in self.subject.items()}
        for source in (given, self.linked):
            for kind, values in source.items():
                for value in values:
                    normal = normalise_identity(kind, value)
                    if normal not in found.setdefault(kind, []):
                        found[kind].append(normal)
        return found


@dataclass
class IdentityResolutionInput:
    """Learn every identifier the tenant's identity sources hold for the subject."""

    request_id: str
    tenant: str
    request_type: str
    subject: dict[str, str]
    submitted_at: str
    sources: list[SystemStep]  # the systems the pack marks ``identity_source``


@dataclass
class IdentityResolution:
    """What resolution found beyond the identities given (normalised, by kind), and why an
    operator must verify first when they point at more than one person. Which source found
    what is kept sealed in the ledger, not here."""

    linked: dict[str, list[str]] = field(default_factory=dict)
    conflict: str | None = None
    rounds: int = 0


@dataclass
class SystemResult:
    """One system's answer: the evidence kept for the request."""

    system: str
    action: str
    outcome: str
    confirmed_at: str | None = None
    evidence: dict[str, Any] = field(default_factory=dict)
    legal_basis: str | None = None
    retained_until: str | None = None
    error: str | None = None
    record_count: int = 0
    # The system's capabilities, as its connector states them (the workflow decides by them).
    withdrawable: bool = False  # a cancelled request is withdrawn from it
    signed_callbacks: bool = False  # it answers by signed partner callbacks

    @property
    def final(self) -> bool:
        return self.outcome in FINAL_OUTCOMES


@dataclass
class RequestStatusChange:
    """A request-level state change to persist and publish."""

    request_id: str
    tenant: str
    request_type: str
    status: str
    due_at: str
    flags: list[str] = field(default_factory=list)
    reason: str | None = None


@dataclass
class SystemOutcomeInput:
    """An asynchronous system's confirmation, to persist and publish."""

    request_id: str
    tenant: str
    request_type: str
    result: SystemResult


@dataclass
class SubjectQuery:
    """Look-ups about one subject of one tenant, by pseudonymous references only."""

    request_id: str
    tenant: str
    subject_refs: list[str]


@dataclass
class DuplicateQuery:
    request_id: str
    tenant: str
    request_type: str
    subject_refs: list[str]
    details_digest: str


@dataclass
class LegalHold:
    hold_id: str
    reason: str
    placed_by: str
    placed_at: str


@dataclass
class OperatorAlert:
    """Something an operator must look at: silent systems or a pending decision, before the due
    date, or overdue."""

    request_id: str
    tenant: str
    request_type: str
    kind: str  # operator_alert | overdue
    due_at: str
    pending_systems: list[str]
    # What the request waits on when it is not the systems: an operator's identity
    # verification, objection decision or hold release ("" while waiting on systems).
    waiting_for: str = ""
    reminder: int = 0  # the n-th reminder of an operator, 0 for the pre-due alert and overdue


@dataclass
class PortabilityTransfer:
    """Send the portability export straight to another provider, at the subject's request."""

    request_id: str
    tenant: str
    destination: dict[str, Any]  # name, url


@dataclass
class ReportInput:
    request_id: str
    tenant: str
    request_type: str
    controller: dict[str, Any]
    steps: list[SystemStep]


@dataclass
class ReportSummary:
    request_id: str
    systems: int
    records: int
