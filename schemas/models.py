"""Typed views of validated contract values.

These carry no validation rules of their own: ``schemas.contract`` has already checked the
value against the JSON Schema before a model is built from it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from schemas.contract import ContractViolation

REQUEST_TYPES = (
    "access",
    "portability",
    "erasure",
    "rectification",
    "restriction",
    "objection",
    "consent_withdrawal",
)


def parse_rfc3339(text: str, field_name: str) -> datetime:
    """Parse an RFC 3339 timestamp (pattern-checked by the schema) into an aware datetime.

    The pattern cannot rule out a 13th month or a 45th day; those are schema violations too.
    """
    try:
        value = datetime.fromisoformat(text.replace("z", "Z").replace("Z", "+00:00").replace("t", "T"))
    except ValueError as exc:
        raise ContractViolation(
            "schema_violation", f"{field_name}: {text!r} is not a real date: {exc}"
        ) from exc
    if value.tzinfo is None:  # the schema pattern requires an offset; defensive only
        raise ContractViolation("schema_violation", f"{field_name}: {text!r} has no UTC offset")
    return value


@dataclass(frozen=True)
class RightsRequest:
    """A request from privacy.requests.v1."""

    request_id: str
    tenant: str
    type: str
    subject: dict[str, str]
    jurisdiction: str
    submitted_at: datetime
    channel: str | None = None
    details: dict[str, Any] = field(default_factory=dict)
    verification: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_event(cls, value: dict[str, Any]) -> RightsRequest:
        return cls(
            request_id=value["request_id"].lower(),
            tenant=value["tenant"],
            type=value["type"],
            subject=dict(value["subject"]),
            jurisdiction=value["jurisdiction"],
            submitted_at=parse_rfc3339(value["submitted_at"], "submitted_at"),
            channel=value.get("channel"),
            details=dict(value.get("details") or {}),
            verification=dict(value.get("verification") or {}),
        )


@dataclass(frozen=True)
class Confirmation:
    """A system's answer from privacy.confirmations.v1."""

    request_id: str
    system: str
    outcome: str
    at: datetime
    evidence: dict[str, Any] = field(default_factory=dict)
    records: list[dict[str, Any]] = field(default_factory=list)
    legal_basis: str | None = None
    retained_until: str | None = None
    reason: str | None = None

    @classmethod
    def from_event(cls, value: dict[str, Any]) -> Confirmation:
        return cls(
            request_id=value["request_id"].lower(),
            system=value["system"],
            outcome=value["outcome"],
            at=parse_rfc3339(value["at"], "at"),
            evidence=dict(value.get("evidence") or {}),
            records=list(value.get("records") or []),
            legal_basis=value.get("legal_basis"),
            retained_until=value.get("retained_until"),
            reason=value.get("reason"),
        )


@dataclass(frozen=True)
class ConsentChange:
    """A consent change from privacy.consent.v1 (already validated against the schema)."""

    event_id: str
    tenant: str
    subject: dict[str, str]
    purposes: tuple[str, ...]
    action: str  # withdraw | grant
    occurred_at: datetime
    signal: str | None = None  # gpc: a browser's Global Privacy Control, the pack maps its purposes

    @classmethod
    def from_event(cls, value: dict[str, Any]) -> ConsentChange:
        return cls(
            event_id=value["event_id"],
            tenant=value["tenant"],
            subject=dict(value["subject"]),
            purposes=tuple(value["purposes"]),
            action=value["action"],
            occurred_at=parse_rfc3339(value["occurred_at"], "occurred_at"),
            signal=value.get("signal"),
        )
