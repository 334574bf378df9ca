"""Data Rights Protocol 1.0, the covered business's side: signed messages, claims, statuses.

Pure functions and the service directory; the HTTP gateway is ``orchestrator.api.drp``.

A signed message is base64 of a 64-byte Ed25519 signature followed by the exact JSON bytes
(libsodium "combined mode"), sent as ``text/plain``. It is checked in the spec's order
(section 3.07): it decodes; the signature verifies with the agent's key from the directory of
agents we trust; ``agent-id`` is that agent; ``business-id`` is the business addressed;
``issued-at`` is not in the future and ``expires-at`` not in the past; ``drp.version`` is 1.0.
Each failure is a ``Refusal`` carrying the spec's error object ``{code, message, fatal}``;
messages never quote the claims (they hold personal data).
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from nacl.exceptions import BadSignatureError
from nacl.signing import VerifyKey

from schemas.periods import add_iso_period

DRP_VERSION = "1.0"
SIGNATURE_BYTES = 64
DIRECTORY_ID = re.compile(r"^[A-Z_]+$")

# DRP rights actions → our request types (sale:opt-out withdraws the pack's GPC purposes).
EXERCISES = {
    "deletion": "erasure",
    "access": "access",
    "access:categories": "access",
    "access:specific": "access",
    "sale:opt-out": "consent_withdrawal",
}
REGIMES = {"ccpa": "US"}  # a request under the CCPA runs under US law (45 days)

STATUSES = ("open", "in_progress", "fulfilled", "denied", "revoked", "expired")
FINAL_STATUSES = frozenset({"fulfilled", "denied", "revoked", "expired"})
DENIAL_REASONS = (
    "suspected_fraud", "insuf_verification", "no_match", "claim_not_covered",
    "outside_jurisdiction", "too_many_requests", "other",
)  # fmt: skip
STATUS_REASONS = ("need_user_verification", *DENIAL_REASONS)


@dataclass(frozen=True)
class Refusal(Exception):
    """A request the gateway will not act on: HTTP status, the spec's message and fatal flag."""

    status: int
    message: str
    fatal: bool = True

    def body(self) -> dict[str, Any]:
        return {"code": str(self.status), "message": self.message, "fatal": self.fatal}


# --- the service directory: the businesses we are, the agents we trust -------------------------


class JsonFile:
    """A small JSON file re-read when it changes, so ``privacyctl drp trust-agent`` needs no restart."""

    def __init__(self, path: Path, key: str) -> None:
        self.path = path
        self._key = key
        self._seen: tuple[float, int] | None = None
        self._entries: dict[str, dict[str, Any]] = {}

    def entries(self) -> dict[str, dict[str, Any]]:
        try:
            stat = self.path.stat()
        except FileNotFoundError:
            return {}
        if self._seen != (stat.st_mtime, stat.st_size):
            document = json.loads(self.path.read_text())
            self._entries = {e["id"]: e for e in document.get(self._key, [])}
            self._seen = (stat.st_mtime, stat.st_size)
        return self._entries


class Directory:
    """``businesses``: which DRP business id serves which tenant (configuration);
    ``agents``: the agents' directory entries we trust, with their Ed25519 verify keys."""

    def __init__(self, businesses: Path, agents: Path) -> None:
        self.businesses = JsonFile(businesses, "businesses")
        self.agents = JsonFile(agents, "agents")

    @classmethod
    def from_environment(cls, state_dir: Path) -> Directory:
        return cls(
            Path(os.environ.get("PRIVACY_DRP_BUSINESSES") or state_dir / "drp-businesses.json"),
            Path(os.environ.get("PRIVACY_DRP_AGENTS") or state_dir / "drp-agents.json"),
        )

    def business(self, business_id: str) -> dict[str, Any] | None:
        return self.businesses.entries().get(business_id)

    def agent(self, agent_id: str) -> dict[str, Any] | None:
        return self.agents.entries().get(agent_id)


def check_agent_entry(entry: Any) -> dict[str, Any]:
    """An agent's service-directory entry, checked (id, a 32-byte base64 Ed25519 verify key)."""
    if not isinstance(entry, dict):
        raise ValueError("an agent's directory entry is a JSON object")
    if not isinstance(entry.get("id"), str) or not DIRECTORY_ID.match(entry["id"]):
        raise ValueError("id must match [A-Z_]+ (the DRP service directory's rule)")
    try:
        key = base64.b64decode(entry.get("verify_key", ""), validate=True)
        VerifyKey(key)
    except (binascii.Error, ValueError, TypeError) as exc:
        raise ValueError(f"verify_key must be a base64 Ed25519 public key (32 bytes): {exc}") from None
    return entry


BUSINESS_ENTRY_FIELDS = (
    "id", "name", "logo", "api_base", "supported_actions", "supported_verifications",
    "privacy_policy_url", "web_url", "technical_contact", "business_contact",
)  # fmt: skip


def business_entry(config: dict[str, Any]) -> dict[str, Any]:
    """Our entry for the DRP service directory (``businesses.json``), from our configuration."""
    entry = {key: config.get(key) for key in BUSINESS_ENTRY_FIELDS}
    entry["logo"] = config.get("logo")
    entry["supported_actions"] = list(config.get("supported_actions") or sorted(EXERCISES))
    entry["supported_verifications"] = list(config.get("supported_verifications") or [])
    return {k: v for k, v in entry.items() if v is not None or k == "logo"}


# --- signed messages ------------------------------------------------------------------------------


def decode_signed(body: bytes) -> bytes:
    """The signed buffer (signature + JSON) from the base64 text/plain body."""
    try:
        signed = base64.b64decode(body.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise Refusal(400, "the body is not base64 (a signed DRP message is base64 text/plain)") from None
    if len(signed) <= SIGNATURE_BYTES:
        raise Refusal(400, "the body is too short to hold a 64-byte signature and a message")
    return signed


def open_signed(signed: bytes, agent: dict[str, Any]) -> dict[str, Any]:
    """Verify the signature with the agent's directory key, then parse the signed JSON."""
    try:
        message = VerifyKey(base64.b64decode(agent["verify_key"])).verify(signed)
    except (BadSignatureError, ValueError, TypeError):
        raise Refusal(403, "forged: the signature does not verify with the agent's key") from None
    try:
        claims = json.loads(message)
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise Refusal(400, "the signed message is not JSON") from None
    if not isinstance(claims, dict):
        raise Refusal(400, "the signed message must be a JSON object")
    return claims


def _timestamp(claims: dict[str, Any], name: str) -> datetime:
    raw = claims.get(name)
    if not isinstance(raw, str):
        raise Refusal(400, f"{name} is required (an ISO 8601 timestamp)")
    try:
        when = datetime.fromisoformat(raw)
    except ValueError:
        raise Refusal(400, f"{name} is not an ISO 8601 timestamp") from None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def check_claims(
    claims: dict[str, Any],
    agent_id: str,
    business_ids: Collection[str],
    now: datetime,
    max_skew: timedelta = timedelta(minutes=1),
) -> datetime:
    """The claims after the signature, in the spec's order; returns ``expires-at``.

    ``business_ids``: the business a token pairs with, or (at key set-up) every one we serve.
    """
    if claims.get("agent-id") != agent_id:
        raise Refusal(403, "agent-id is not the agent that signed (or holds this token)")
    if claims.get("business-id") not in business_ids:
        raise Refusal(403, "wrong business: business-id is not a business this agent may address here")
    issued, expires = _timestamp(claims, "issued-at"), _timestamp(claims, "expires-at")
    if issued > now + max_skew:
        raise Refusal(400, "issued-at is in the future: check the agent's clock")
    if expires <= now:
        raise Refusal(400, "expired: expires-at is past; sign a fresh request")
    if claims.get("drp.version") != DRP_VERSION:
        raise Refusal(400, f"unsupported drp.version: this business speaks DRP {DRP_VERSION}")
    return expires


# --- requests in, statuses out --------------------------------------------------------------------


def subject_of(claims: dict[str, Any]) -> tuple[dict[str, str], list[str]]:
    """Identities we can match (email, phone) and which of them the agent verified."""
    subject: dict[str, str] = {}
    verified: list[str] = []
    for claim, identity in (("email", "email"), ("phone_number", "phone")):
        value = claims.get(claim)
        if isinstance(value, str) and value.strip():
            subject[identity] = value.strip()
            if claims.get(f"{claim}_verified") is True:
                verified.append(claim)
    if not subject:
        raise Refusal(400, "no identity the business can match: send email or phone_number")
    return subject, verified


def jurisdiction_of(claims: dict[str, Any], business: dict[str, Any]) -> str:
    regime = claims.get("regime")
    if regime is None:
        return str(business.get("jurisdiction") or "US")  # voluntary processing: the business's law
    if regime not in REGIMES:
        raise Refusal(400, f"unsupported regime: this business accepts {sorted(REGIMES)} or none")
    return REGIMES[regime]


VERIFICATION_PATH = "/v1/drp/verification/{request_id}"


@dataclass(frozen=True)
class StatusContext:
    """What a status needs beside the ledger row: where the person verifies with us (the
    configurable public base of ``VERIFICATION_PATH``), and how long each tenant keeps a
    fulfilled request's results (the pack's ``retention.own_copies``, an ISO 8601 duration)."""

    verification_base: str = ""
    results_kept: Mapping[str, str] = field(default_factory=dict)

    def verification_url(self, request_id: str) -> str:
        return self.verification_base.rstrip("/") + VERIFICATION_PATH.format(request_id=request_id)


def drp_status(row: dict[str, Any], context: StatusContext | None = None) -> dict[str, Any]:
    """The DRP Exercise Status object of an agent's request (ledger row joined, section 3.03).

    Section 3.02's new fields per state: ``in_progress``/``need_user_verification`` carries the
    ``user_verification_url`` and the ``expires_at`` the person has until; ``fulfilled`` carries
    ``expires_at``, when the business stops keeping the results; ``expired`` is a request past
    that ``expires_at`` — read from the ledger's purge of the results, not from the clock, so the
    status never announces a purge that has not happened."""
    context = context or StatusContext()
    status, reason, details = _status_and_reason(row)
    found: dict[str, Any] = {
        "request_id": row["request_id"],
        "status": status,
        "received_at": row["received_at"].isoformat(),
    }
    if reason:
        found["reason"] = reason
    if row.get("due_at") is not None:
        found["expected_by"] = row["due_at"].isoformat()
    if details:
        found["processing_details"] = details
    if reason == "need_user_verification":
        found["user_verification_url"] = context.verification_url(row["request_id"])
        found["expires_at"] = row["user_verification_until"].isoformat()
    elif status in ("fulfilled", "expired"):
        expires = results_expire_at(row, context)
        if expires is not None:
            found["expires_at"] = expires.isoformat()
    if row.get("agent_request_id"):
        found["agent_request_id"] = row["agent_request_id"]
    return found


def results_expire_at(row: dict[str, Any], context: StatusContext) -> datetime | None:
    """When a fulfilled request's results stop being kept (None: it has none, or is not closed)."""
    period = context.results_kept.get(str(row.get("tenant")))
    if not row.get("has_results") or row.get("closed_at") is None or not period:
        return None
    expires: datetime = add_iso_period(row["closed_at"], period)
    return expires


def needs_user_verification(row: dict[str, Any]) -> bool:
    """The request waits for the person to verify on our page (and they have not yet)."""
    return (
        row.get("ledger_status") == "awaiting_verification"
        and row.get("user_verification_until") is not None
        and row.get("user_verified_at") is None
    )


def _status_and_reason(row: dict[str, Any]) -> tuple[str, str | None, str | None]:
    ledger = row.get("ledger_status")
    if row.get("revoked_at") is not None and ledger not in ("completed", "rejected"):
        return "revoked", None, None  # the cancellation was accepted; the ledger follows shortly
    if ledger is None:
        return "open", None, None  # received by the gateway; intake has not started it yet
    if ledger in ("received", "awaiting_verification", "in_progress"):
        flags = row.get("ledger_flags") or []
        if needs_user_verification(row):
            return "in_progress", "need_user_verification", (
                "the business needs the person to verify their identity at user_verification_url"
            )  # fmt: skip
        if "extended" in flags:
            return "in_progress", None, "the deadline was extended as the law allows"
        if row.get("user_verified_at") is not None and ledger == "awaiting_verification":
            return "in_progress", None, "the person verified their identity; the request goes on"
        if ledger == "awaiting_verification":
            return "in_progress", None, "the business is checking the identity and the agent's mandate"
        return "in_progress", None, None
    if ledger == "completed":
        if row.get("results_purged_at") is not None:
            return "expired", None, None  # past its expires_at: the results are no longer kept
        return "fulfilled", None, None
    return "denied", denial_reason(str(row.get("ledger_reason") or "")), None


def final_notice(status: dict[str, Any]) -> bool:
    """No later change can follow: a final status, except a fulfilled one that will expire."""
    if status["status"] == "fulfilled":
        return "expires_at" not in status
    return status["status"] in FINAL_STATUSES


def denial_reason(reason: str) -> str:
    """The spec's denial reason for the workflow's own (rejected or cancelled) reason."""
    text = reason.lower()
    if "identity" in text or "verif" in text or "mandate" in text:
        return "insuf_verification"
    if "jurisdiction" in text:
        return "outside_jurisdiction"
    if "no rule" in text or "not covered" in text:
        return "claim_not_covered"
    if "fee" in text or "too many" in text:
        return "too_many_requests"
    return "other"


def status_key(status: dict[str, Any]) -> str:
    """What a change is, for the notifier: status, reason, expected_by."""
    return "/".join(str(status.get(k) or "") for k in ("status", "reason", "expected_by"))
