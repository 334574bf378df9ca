"""Workflow inputs and state: one dataclass each, so fields can be added safely."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from workers.messages import SystemResult, SystemStep


def request_workflow_id(request_id: str) -> str:
    """Derived from the request_id only: no personal data in ids."""
    return f"privacy-request-{request_id}"


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


@dataclass
class RequestState:
    """The whole state of a request run, readable by a query."""

    status: str = "received"
    flags: list[str] = field(default_factory=list)
    results: dict[str, SystemResult] = field(default_factory=dict)
    reason: str | None = None


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
class RetrySignal:
    """An operator asks a failed system to be tried again."""

    reason: str = ""
