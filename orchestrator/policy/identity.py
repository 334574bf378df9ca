"""Who must check a request before it runs: the tenant's identity rule and agents. Pure.

Age rules are not here on purpose: a minor may exercise their own rights (JSM's and Nexio's
age rules govern what is collected and which processing is allowed, never a child's request).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from orchestrator.policy.packs import PolicyPack
from schemas.periods import add_iso_period
from workers.messages.requests import SystemStep

# An authorised agent vouches for identities by these claims (DRP 1.0 section 3.04).
AGENT_CLAIMS = {"email": "email", "phone": "phone_number"}
DEFAULT_USER_VERIFICATION_WITHIN = "P14D"
USER_VERIFICATION_REASON = "the person must verify their identity with the controller"
UNVERIFIED_REQUEST_TYPES = frozenset({"consent_withdrawal"})


def verification_reason(pack: PolicyPack, verification: dict[str, Any]) -> str | None:
    """Why the request must wait in ``awaiting_verification``, or None when it may run now.

    ``verification`` is the request's optional block: ``document`` (an ID copy),
    ``agent`` (an authorised agent's name); ``user_verification`` (the agent vouched for less
    than the tenant's rule asks: the person verifies with us, ``until`` a time — DRP's
    need_user_verification; their own verification also confirms the agent's mandate, as the
    CCPA regulations allow, §7063); ``subject_age`` does not hold a request back.
    """
    rule = pack.document.get("identity") or {"mode": "automatic"}
    reasons = []
    if rule.get("document_required"):
        if verification.get("document"):
            reasons.append("identity document to check")
        else:
            reasons.append("identity document required but missing")
    user = verification.get("user_verification")
    if verification.get("agent") and isinstance(user, dict) and user.get("until"):
        missing = ", ".join(str(kind) for kind in user.get("identities") or [])
        reasons.append(f"{USER_VERIFICATION_REASON} (the agent did not verify: {missing})")
    elif verification.get("agent"):
        if rule.get("authorised_agents"):
            reasons.append("request made by an authorised agent: mandate to check")
        else:
            reasons.append("request made by an agent, which this controller does not provide for")
    if rule.get("mode") == "operator_approval" and not reasons:
        reasons.append("the controller's policy requires an operator to approve every request")
    return "; ".join(reasons) or None


def identities_to_verify(
    pack: PolicyPack, request_type: str, subject: dict[str, str], agent_verified: list[str]
) -> list[str]:
    """The identities given that the tenant's rule (``identity.agent_verified``) wants an
    authorised agent to have verified itself and this agent did not: the person then verifies
    them with the controller. An identity the rule names but the request does not carry is not
    asked for (the agent sends what it has; a request without any is refused at the door). An
    opt-out (consent withdrawal) is never held for the person's verification: it need not be a
    verifiable request (CCPA regulations §7026(d))."""
    if request_type in UNVERIFIED_REQUEST_TYPES:
        return []
    rule = pack.document.get("identity") or {}
    wanted = [kind for kind in rule.get("agent_verified") or [] if kind in subject]
    return [kind for kind in wanted if AGENT_CLAIMS.get(kind, kind) not in agent_verified]


def user_verification_until(pack: PolicyPack, received: datetime) -> datetime:
    """Until when the person may verify (``identity.user_verification_within``, default 14 days);
    after that the request is denied for insufficient verification."""
    rule = pack.document.get("identity") or {}
    return add_iso_period(
        received, str(rule.get("user_verification_within") or DEFAULT_USER_VERIFICATION_WITHIN)
    )


def second_factor_required(pack: PolicyPack) -> bool:
    """The pack's ``identity.second_factor_required``: a request naming one identity only (an
    e-mail anyone could type) must be verified by an operator before it runs."""
    rule = pack.document.get("identity") or {}
    return bool(rule.get("second_factor_required", False))


def identity_match_step(pack: PolicyPack) -> SystemStep | None:
    """Where the automatic check looks: the pack's ``identity.match_system`` (None: no check)."""
    rule = pack.document.get("identity") or {}
    name = rule.get("match_system")
    if rule.get("mode", "automatic") != "automatic" or not name:
        return None
    system = pack.system(name)
    return SystemStep(
        name, "match", dict(system["connector"]), {"action": "match", "citation": rule["citation"]}
    )


def identity_sources(pack: PolicyPack) -> list[SystemStep]:
    """The systems the pack marks ``identity_source``: asked for every identifier they link to the
    identities given, before the request fans out (identity resolution)."""
    return [
        SystemStep(
            system["name"],
            "link_identities",
            dict(system["connector"]),
            {"action": "link_identities", "citation": "", **system["identity_source"]},
        )
        for system in pack.systems
        if system.get("identity_source")
    ]
