"""The OpenDSR v2 messages: what the controller sends, what a partner's answers mean. Pure.

Rights OpenDSR has no name for (rectification, restriction, objection, consent withdrawal)
travel as ``subject_request_type`` with the right's own name and the details under
``extensions`` keyed by the partner's domain, as the protocol asks.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from schemas.vocabulary import PARTNER_STATUSES

API_VERSION = "2.0"
# The rights OpenDSR names; others travel under ``extensions``.
OPENDSR_TYPES = frozenset({"access", "portability", "erasure"})
# Our identity names → OpenDSR identity types (others travel in the extension).
IDENTITY_TYPES = {"email": "email", "customer_id": "controller_customer_id"}


def callback_path(tenant: str, system: str) -> str:
    return f"/opendsr/v2/callbacks/{tenant}/{system}"


def request_body(
    *,
    subject_request_id: str,
    request_type: str,
    subject: dict[str, str],
    submitted_at: str,
    callback_url: str,
    partner_domain: str,
    details: dict[str, Any],
) -> dict[str, Any]:
    """The body of ``POST /requests`` for one (request, partner)."""
    identities = [
        {"identity_type": IDENTITY_TYPES[name], "identity_value": value, "identity_format": "raw"}
        for name, value in sorted(subject.items())
        if name in IDENTITY_TYPES
    ]
    extension: dict[str, Any] = {}
    other_identities = {name: value for name, value in subject.items() if name not in IDENTITY_TYPES}
    if other_identities:
        extension["subject_identities"] = other_identities
    if request_type not in OPENDSR_TYPES:
        extension["right"] = request_type
        extension["details"] = {
            k: v for k, v in details.items() if k in ("corrections", "purposes", "reason")
        }
    body: dict[str, Any] = {
        "subject_request_id": subject_request_id,
        "subject_request_type": request_type,
        "submitted_time": submitted_at,
        "subject_identities": identities,
        "api_version": API_VERSION,
        "status_callback_urls": [callback_url],
    }
    if extension:
        body["extensions"] = {partner_domain: extension}
    return body


@dataclass(frozen=True)
class Callback:
    subject_request_id: str
    request_status: str
    status_callback_url: str
    sent_time: datetime
    expected_completion_time: str | None
    results_count: int | None


def parse_callback(body: Any) -> Callback | str:
    """A callback from its (already verified) JSON body, or why it is malformed."""
    if not isinstance(body, dict):
        return "the body is not a JSON object"
    missing = [f for f in ("subject_request_id", "request_status", "status_callback_url") if not body.get(f)]
    if missing:
        return f"missing field(s): {', '.join(missing)}"
    status = body["request_status"]
    if status not in PARTNER_STATUSES:
        return f"request_status {status!r} is not one of {', '.join(PARTNER_STATUSES)}"
    raw_time = body.get("sent_time")
    if not isinstance(raw_time, str):
        # Without a signed time, an old callback replayed later cannot be told from a new one.
        return "missing sent_time: a signed time is required to refuse replayed callbacks"
    try:
        sent = datetime.fromisoformat(raw_time.replace("Z", "+00:00"))
    except ValueError:
        return f"sent_time {raw_time!r} is not an RFC 3339 time"
    if sent.tzinfo is None:
        return f"sent_time {raw_time!r} has no time zone"
    count = body.get("results_count")
    return Callback(
        subject_request_id=str(body["subject_request_id"]),
        request_status=status,
        status_callback_url=str(body["status_callback_url"]),
        sent_time=sent,
        expected_completion_time=body.get("expected_completion_time"),
        results_count=count if isinstance(count, int) else None,
    )


def staleness(sent: datetime, now: datetime, max_age: timedelta, max_skew: timedelta) -> str | None:
    """Why a callback sent at ``sent`` is too old (a replay) or from the future, or None."""
    if sent > now + max_skew:
        return f"sent_time is {(sent - now).total_seconds():.0f}s in the future"
    if now - sent > max_age:
        return f"sent_time is {(now - sent).total_seconds():.0f}s old (limit {max_age.total_seconds():.0f}s)"
    return None
