"""Who must check a request before it runs: the tenant's identity rule and agents. Pure.

Age rules are not here on purpose: a minor may exercise their own rights (JSM's and Nexio's
age rules govern what is collected and which processing is allowed, never a child's request).
"""

from __future__ import annotations

from typing import Any

from orchestrator.policy.packs import PolicyPack
from workers.messages.requests import SystemStep


def verification_reason(pack: PolicyPack, verification: dict[str, Any]) -> str | None:
    """Why the request must wait in ``awaiting_verification``, or None when it may run now.

    ``verification`` is the request's optional block: ``document`` (an ID copy),
    ``agent`` (an authorised agent's name); ``subject_age`` does not hold a request back.
    """
    rule = pack.document.get("identity") or {"mode": "automatic"}
    reasons = []
    if rule.get("document_required"):
        if verification.get("document"):
            reasons.append("identity document to check")
        else:
            reasons.append("identity document required but missing")
    if verification.get("agent"):
        if rule.get("authorised_agents"):
            reasons.append("request made by an authorised agent: mandate to check")
        else:
            reasons.append("request made by an agent, which this controller does not provide for")
    if rule.get("mode") == "operator_approval" and not reasons:
        reasons.append("the controller's policy requires an operator to approve every request")
    return "; ".join(reasons) or None


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
