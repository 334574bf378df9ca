"""Decide what to do with one raw request event: a workflow to start, or a DLQ record. Pure.

Validation rules live in the JSON Schema; tenants live in policy packs. This module only
joins them: parse, validate, find the pack, plan, compute the deadline.
"""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from orchestrator.policy.deadlines import ControllerClock, Promise, applicable_law, compute_deadline
from orchestrator.policy.identity import (
    identity_match_step,
    identity_sources,
    second_factor_required,
    verification_reason,
)
from orchestrator.policy.packs import PolicyPack
from orchestrator.policy.plan import plan_request, supported_rights
from orchestrator.policy.regions import REGIONS
from orchestrator.policy.taxonomy import canonical_details, refused_purposes, with_narrower
from orchestrator.workflows.models import RequestInput
from schemas import REQUESTS_TOPIC, ContractViolation, decode_and_validate, decode_event
from schemas.identity import subject_refs
from schemas.models import RightsRequest
from workers.connectors.registry import answers_later
from workers.messages.requests import SystemStep


@dataclass(frozen=True)
class Admission:
    request: RightsRequest
    workflow_input: RequestInput
    due_at: datetime
    deadline_basis: str
    # An identity document sent with the request: kept apart until the check, then discarded.
    identity_document: str | None = None


# A producer's clock may run a little ahead of ours; beyond this, a receipt in the future
# would start the legal clock late, so the event is refused.
CLOCK_SKEW = timedelta(minutes=5)

# Request types whose ``details.purposes`` pick the systems: a purpose the tenant does not
# know would reach none of them, so the request is refused rather than started and rejected.
PURPOSED = frozenset({"objection", "consent_withdrawal"})


def admit_request(
    raw: bytes, packs: dict[str, PolicyPack], ref_key: bytes, now: datetime | None = None
) -> Admission:
    """Raise ContractViolation (malformed_json, schema_violation, unknown_tenant,
    future_submitted_at, unknown_purpose) or admit. ``ref_key`` keys the subject references
    (``schemas.identity.subject_refs``)."""
    value = decode_and_validate(REQUESTS_TOPIC, raw)
    request = RightsRequest.from_event(value)
    pack = packs.get(request.tenant)
    if pack is None:
        raise ContractViolation("unknown_tenant", f"tenant: no policy pack for {request.tenant!r}")
    received = now or datetime.now(UTC)
    if request.submitted_at > received + CLOCK_SKEW:
        raise ContractViolation(
            "future_submitted_at",
            f"submitted_at: {request.submitted_at.isoformat()} is in the future "
            f"(more than {int(CLOCK_SKEW.total_seconds())} s after {received.isoformat(timespec='seconds')})",
        )
    clock = ControllerClock.from_controller(pack.document["controller"])
    region = value.get("region")
    if region and not region.startswith(request.jurisdiction + "-"):
        raise ContractViolation(
            "schema_violation", f"region: {region!r} is not a subdivision of {request.jurisdiction}"
        )
    named = request.details.get("purposes") or []
    refusal = refused_purposes(request.tenant, named, pack.document) if request.type in PURPOSED else None
    if refusal:
        raise ContractViolation("unknown_purpose", f"details/purposes: {refusal}")
    # Older words (``newsletter``) stand for the pack's data uses: the plan and the record use those.
    details = (
        canonical_details(request.details, pack.document) if request.type in PURPOSED else request.details
    )
    purposes = frozenset(details.get("purposes") or [])
    law = applicable_law(clock, request.jurisdiction, region, request.type, purposes)
    deadline = compute_deadline(request.submitted_at, law, Promise.from_pack(pack.deadline), clock.time_zone)
    escalation = pack.document.get("escalation", {})
    objection = pack.document.get("objection", {})
    fees = pack.document.get("fees")
    transfers = pack.document.get("transfers")
    workflow_input = RequestInput(
        request_id=request.request_id,
        tenant=request.tenant,
        request_type=request.type,
        jurisdiction=request.jurisdiction,
        subject=request.subject,
        submitted_at=request.submitted_at.isoformat(),
        due_at=deadline.due_at.isoformat(),
        deadline_basis=deadline.basis,
        controller={**pack.document["controller"], "rights": supported_rights(pack)},
        steps=with_answering(plan_request(pack, request.type, details)),
        details=details,
        subject_refs=subject_refs(ref_key, request.tenant, request.subject),
        verification_reason=verification_reason(pack, request.verification),
        extendable_until=deadline.extendable_until.isoformat() if deadline.extendable_until else None,
        no_extension_reason=deadline.no_extension_reason,
        receipt_due_at=deadline.receipt_due_at.isoformat() if deadline.receipt_due_at else None,
        remind_after=escalation.get("remind_after"),
        alert_before_due=escalation.get("alert_before_due"),
        free_copies=int(fees["free_copies"]) if fees else None,
        absolute_objection_purposes=with_narrower(objection.get("absolute_purposes", []), purposes),
        rectification_review=request.type == "rectification" and "rectification_review" in pack.document,
        identity_match_step=identity_match_step(pack),
        identity_sources=identity_sources(pack),
        second_factor_required=second_factor_required(pack),
        transfer_countries=sorted(REGIONS[transfers["only_to"]]) if transfers else None,
        transfer_rule=transfers["citation"] if transfers else "",
        details_digest=hashlib.sha256(json.dumps(request.details, sort_keys=True).encode()).hexdigest(),
        user_verification_until=_user_verification_until(request.verification),
    )
    document = request.verification.get("document")
    return Admission(
        request,
        workflow_input,
        deadline.due_at,
        deadline.basis,
        identity_document=document if isinstance(document, str) else None,
    )


def _user_verification_until(verification: dict[str, Any]) -> str | None:
    """Until when the person may verify with us (set by the DRP gateway from the tenant's rule)."""
    user = verification.get("user_verification")
    if not verification.get("agent") or not isinstance(user, dict):
        return None
    try:
        until = datetime.fromisoformat(str(user.get("until")))
    except ValueError:
        raise ContractViolation(
            "schema_violation", "verification/user_verification/until: not an RFC 3339 date-time"
        ) from None
    return (until if until.tzinfo else until.replace(tzinfo=UTC)).isoformat()


def dlq_record(
    raw: bytes, violation: ContractViolation, *, topic: str, partition: int | None, offset: int | None
) -> dict[str, Any]:
    """The DLQ value for a rejected input: reason, detail, and the original bytes (beyond
    DLQ_RAW_MAX_BYTES only their head: the whole stays on the source topic at partition/offset)."""
    size = len(raw)
    if size > DLQ_RAW_MAX_BYTES:
        raw = raw[:DLQ_RAW_MAX_BYTES]
    try:
        text, encoding = raw.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        text, encoding = base64.b64encode(raw).decode("ascii"), "base64"
    record: dict[str, Any] = {
        "source_topic": topic,
        "reason": violation.reason,
        "error": violation.detail,
        "rejected_at": datetime.now(UTC).isoformat(),
        "raw": text,
        "raw_encoding": encoding,
    }
    if size > DLQ_RAW_MAX_BYTES:
        record["raw_bytes"] = size
    if partition is not None:
        record["partition"] = partition
    if offset is not None:
        record["offset"] = offset
    return record


DLQ_RAW_MAX_BYTES = 65_536


def dlq_key(raw: bytes) -> bytes | None:
    """Key DLQ records by request_id when one can be read, to keep them next to retries."""
    try:
        value = decode_event(raw)
    except ContractViolation:
        return None
    request_id = value.get("request_id") if isinstance(value, dict) else None
    return request_id.encode() if isinstance(request_id, str) and len(request_id) <= 64 else None


def with_answering(steps: list[SystemStep]) -> list[SystemStep]:
    """Each step says whether its system answers later: the workflow acts directly on one that
    answers in the call (no child workflow to start, schedule and close: issue 13)."""
    for step in steps:
        step.answers_later = answers_later(str(step.connector.get("kind")))
    return steps
