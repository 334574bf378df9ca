"""The components of the API's OpenAPI document: request and response bodies, as the handlers build them.

Kept apart from the operations (orchestrator.api.openapi) so each file reads in one go.
"""

from __future__ import annotations

from typing import Any

from schemas.vocabulary import FINAL_OUTCOMES


def ref(name: str) -> dict[str, Any]:
    return {"$ref": f"#/components/schemas/{name}"}


def _object(required: list[str] | None = None, **properties: Any) -> dict[str, Any]:
    return {"type": "object", "required": required or [], "properties": properties}


STRING = {"type": "string"}
NULLABLE_STRING = {"type": ["string", "null"]}
UUID = {"type": "string", "format": "uuid"}
TIME = {"type": "string", "format": "date-time"}
IDENTITIES = {
    "type": "object",
    "minProperties": 1,
    "additionalProperties": {"type": "string"},
    "description": "The subject's identities (email, phone, customer_id, ...)",
}

SCHEMAS: dict[str, Any] = {
    "Error": _object(["error"], error=STRING),
    "Purged": _object(["error", "reason", "purged_at"], error=STRING, reason=STRING, purged_at=STRING),
    "DrpError": _object(["code", "message"], code=STRING, message=STRING, fatal={"type": "boolean"}),
    "SystemPart": _object(
        ["system", "action", "outcome"],
        system=STRING,
        action=STRING,
        outcome=STRING,
        confirmed_at=NULLABLE_STRING,
        legal_basis=NULLABLE_STRING,
        retained_until=NULLABLE_STRING,
        error=NULLABLE_STRING,
        citation=NULLABLE_STRING,
        attempts={"type": "integer"},
        located={"type": ["integer", "null"], "description": "records found before the system acted"},
        verification={
            "type": ["object", "null"],
            "description": "after an erasure or anonymisation: what looking again found "
            '({"remaining": 0, "checked_at": ...}), or {"checked": false, "reason": ...}',
        },
        evidence={"type": "object"},
    ),
    "Request": _object(
        ["request_id", "tenant", "type", "status", "due_at", "systems"],
        request_id=STRING,
        tenant=STRING,
        type=STRING,
        jurisdiction=STRING,
        status=STRING,
        flags={"type": "array", "items": STRING},
        submitted_at=STRING,
        received_at=STRING,
        due_at=STRING,
        deadline_basis=NULLABLE_STRING,
        closed_at=NULLABLE_STRING,
        reason=NULLABLE_STRING,
        identifiers={
            "type": ["object", "null"],
            "description": "identifier kinds the systems were searched by: given, and found by identity "
            "resolution (count, source systems); the identifiers themselves are kept sealed",
        },
        systems={"type": "array", "items": ref("SystemPart")},
    ),
    "RequestSummary": _object(
        ["request_id", "tenant", "type", "status"],
        request_id=STRING,
        tenant=STRING,
        type=STRING,
        status=STRING,
        flags={"type": "array", "items": STRING},
    ),
    "RequestList": _object(["requests"], requests={"type": "array", "items": ref("RequestSummary")}),
    "Report": {"type": "object", "description": "The access/portability report: systems → records"},
    "Notice": {
        "type": "object",
        "description": "What the subject is told: every refusal or partial refusal with its reasons, "
        "and the supervisory authority and how to complain (GDPR Art. 12(4)), in the tenant's language",
    },
    "AuditEntries": _object(
        ["entries"],
        entries={
            "type": "array",
            "items": _object(
                ["seq", "at", "actor", "action"],
                seq={"type": "integer"},
                at=STRING,
                actor=STRING,
                action=STRING,
                request_id=NULLABLE_STRING,
                reason=NULLABLE_STRING,
                details={"type": "object"},
                hash=STRING,
            ),
        },
    ),
    "RequestState": _object(
        ["status"],
        status=STRING,
        flags={"type": "array", "items": STRING},
        results={"type": "object"},
        reason=NULLABLE_STRING,
        due_at=STRING,
    ),
    "Ok": _object(["status"], status=STRING),
    "Decision": _object(["decision"], decision=STRING, reason=STRING),
    "Reason": _object([], reason=STRING),
    "Confirmation": _object(
        ["outcome"],
        outcome={"type": "string", "enum": sorted(FINAL_OUTCOMES)},
        reason=STRING,
        evidence={"type": "object"},
    ),
    "Hold": _object(["tenant", "subject", "reason"], tenant=STRING, subject=IDENTITIES, reason=STRING),
    "Directive": _object(
        ["tenant", "subject", "request_type"],
        tenant=STRING,
        subject=IDENTITIES,
        request_type=STRING,
        beneficiary=STRING,
    ),
    "Death": _object(["tenant", "subject"], tenant=STRING, subject=IDENTITIES, reason=STRING),
    "SuppressionCheck": _object(
        ["tenant", "subject"],
        tenant={"type": "string", "minLength": 1},
        subject=IDENTITIES,
        purposes={"type": "array", "items": STRING},
    ),
    "Suppressions": _object(
        ["suppressed", "suppressions"],
        suppressed={"type": "boolean"},
        suppressions={"type": "array", "items": _object(["purpose", "since"], purpose=STRING, since=STRING)},
    ),
    "ConsentEvidence": _object(
        ["event_id", "systems"],
        event_id=STRING,
        systems={
            "type": "array",
            "items": _object(
                ["system", "outcome"],
                system=STRING,
                outcome=STRING,
                confirmed_at=STRING,
                batch_id=STRING,
            ),
        },
    ),
    "Payloads": _object(
        ["payloads"],
        payloads={
            "type": "array",
            "items": _object(
                [],
                metadata={"type": "object", "additionalProperties": STRING},
                data=STRING,
            ),
        },
    ),
    "CallbackAnswer": _object([], result=STRING, message=STRING, error=STRING),
    "DrpStatus": _object(
        ["request_id", "status"],
        request_id=STRING,
        status={
            "type": "string",
            "enum": ["open", "in_progress", "fulfilled", "denied", "revoked", "expired"],
        },
        reason={
            "type": "string",
            "enum": [
                "need_user_verification",
                "suspected_fraud",
                "insuf_verification",
                "no_match",
                "claim_not_covered",
                "outside_jurisdiction",
                "too_many_requests",
                "other",
            ],
        },
        received_at=STRING,
        expected_by=STRING,
        agent_request_id=STRING,
        processing_details=STRING,
        user_verification_url=STRING,
        expires_at=STRING,
    ),
    "DrpToken": _object(["agent-id", "token"], **{"agent-id": STRING, "token": STRING}),
    "DrpVerificationForm": _object(
        ["request_id", "kind", "value"], request_id=STRING, redirect_to=STRING, kind=STRING, value=STRING
    ),
    "Html": {"type": "string", "description": "an HTML page for the person"},
}

SCHEMAS.update(
    HoldId=_object(["hold_id"], hold_id=STRING),
    Released=_object(["requests_told"], requests_told={"type": "integer"}),
    DirectiveId=_object(["directive_id"], directive_id=STRING),
    RequestIds=_object(["request_ids"], request_ids={"type": "array", "items": STRING}),
    Empty={"type": "object"},
)
