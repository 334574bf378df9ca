"""When an operator action is allowed: the validators' rules, pure, so the workflow stays short.

Each returns the reason the action is refused, or None when it is allowed; the workflow's
update validators turn a reason into an ApplicationError (an HTTP 409 with that text).
"""

from __future__ import annotations

from datetime import datetime

from orchestrator.workflows.models import OperatorDecision, RequestInput, RequestState

CLOSED = ("completed", "rejected", "cancelled")


def verify_refusal(state: RequestState, decision: OperatorDecision) -> str | None:
    if state.status != "awaiting_verification" and state.verification is None:
        return f"request is {state.status}, not awaiting verification"
    if decision.decision not in ("approve", "deny"):
        return "decision must be approve or deny"
    if decision.decision == "deny" and not decision.reason.strip():
        return "a denial needs a reason"
    if state.verification is not None and state.verification.decision != decision.decision:
        # The same decision again is a harmless repeat; the opposite one would be silently ignored.
        return (
            f"verification was already decided ({state.verification.decision}) by {state.verification.actor}"
        )
    return None


def objection_refusal(request: RequestInput, decision: OperatorDecision) -> str | None:
    if request.request_type != "objection":
        return f"this is a {request.request_type} request, not an objection"
    if decision.decision not in ("accept", "refuse"):
        return "decision must be accept or refuse"
    if not decision.reason.strip():
        return "an objection decision needs its reasons"
    return None


def rectification_refusal(request: RequestInput, decision: OperatorDecision) -> str | None:
    if request.request_type != "rectification":
        return f"this is a {request.request_type} request, not a rectification"
    if not request.rectification_review:
        return "this controller's policy does not reserve refusing a rectification"
    if decision.decision not in ("accept", "refuse"):
        return "decision must be accept or refuse"
    if decision.decision == "refuse" and not decision.reason.strip():
        return "a refusal needs the reasons given to the subject"
    return None


def extension_refusal(
    state: RequestState, request: RequestInput, decision: OperatorDecision, now: datetime
) -> str | None:
    """GDPR Art. 12(3): once, with reasons, decided inside the first period."""
    if "extended" in state.flags:
        return "the deadline was already extended once"
    if not decision.reason.strip():
        return "an extension needs the reasons given to the subject"
    if request.extendable_until is None:
        return request.no_extension_reason or "the law of this jurisdiction allows no extension"
    if now > datetime.fromisoformat(request.due_at):
        return "an extension must be decided inside the first period"
    if state.status in CLOSED:
        return f"request is already {state.status}"
    return None


def cancel_refusal(state: RequestState, decision: OperatorDecision) -> str | None:
    if state.status in CLOSED:
        return f"request is already {state.status}"
    if not decision.reason.strip():
        return "a cancellation needs a reason"
    return None


def transfer_refusal(request: RequestInput, country: str) -> str | None:
    """A policy that keeps data inside a region refuses a destination outside it."""
    if request.transfer_countries is not None and country not in request.transfer_countries:
        return f"destination country {country or 'unknown'} is not allowed: {request.transfer_rule}"
    return None
