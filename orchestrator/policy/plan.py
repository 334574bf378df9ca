"""Turn a tenant's pack and a request into a plan: which systems and recipients, which action. Pure."""

from __future__ import annotations

from typing import Any

from orchestrator.policy.packs import PolicyPack
from orchestrator.policy.taxonomy import any_related, extension_names, human_names
from schemas.vocabulary import REQUEST_TYPE_NAMES
from workers.messages.requests import SystemStep

DISCLOSED = ("description", "categories", "purposes", "recipients", "retention")


def plan_request(
    pack: PolicyPack, request_type: str, details: dict[str, Any] | None = None
) -> list[SystemStep]:
    """One step per system with a rule for this type, then one per recipient to tell (Art. 19).

    A system without a rule for the type holds nothing that type can act on (the pack
    author's statement). For objections and consent withdrawals naming purposes, only the
    systems whose rule covers one of those purposes stop, the hierarchy included
    (``marketing`` covers ``marketing.communications.email``: orchestrator.policy.taxonomy).
    An empty plan means the tenant cannot honour the type: the request is rejected with that
    reason.
    """
    purposes = set((details or {}).get("purposes") or [])
    steps = []
    for system in pack.systems:
        rule = system["actions"].get(request_type)
        if rule is None:
            continue
        covered = set(rule.get("purposes") or [])
        if purposes and covered and not any_related(purposes, covered):
            continue
        if request_type == "erasure" and reported_minor(pack, details):
            rule = _erase_minor(pack, rule)
        steps.append(
            SystemStep(
                system=system["name"],
                action=rule["action"],
                connector=dict(system["connector"]),
                rule=dict(rule),
                disclosure=_disclosure(system, extension_names(pack.document)),
            )
        )
    if steps:
        steps += notification_steps(pack, request_type, purposes)
    return steps


def _disclosure(system: dict[str, Any], extensions: dict[str, str]) -> dict[str, Any]:
    """What the subject is owed to know of a system, with the human names of its fideslang
    categories and purposes (the pack's extensions by the names it gives them)."""
    disclosure = {key: system[key] for key in DISCLOSED if key in system}
    names = human_names([*system.get("categories", []), *system.get("purposes", [])], extensions)
    if names:
        disclosure["names"] = names
    return disclosure


def reported_minor(pack: PolicyPack, details: dict[str, Any] | None) -> bool:
    """An erasure reporting a child's data collected without parental consent, for a tenant
    whose policy promises to delete it then (JSM)."""
    minors = pack.document.get("minors") or {}
    flagged = bool((details or {}).get("minor_without_parental_consent"))
    return flagged and minors.get("on_report_without_parental_consent") == "erase"


def _erase_minor(pack: PolicyPack, rule: dict[str, Any]) -> dict[str, Any]:
    """The policy's promise to delete such data wins over the system's usual erasure rule
    (data kept under a retention rule included: it should never have been collected)."""
    if rule["action"] == "erase":
        return rule
    citation = pack.document["minors"]["citation"]
    return {"action": "erase", "citation": citation, "replaces": rule["action"]}


def supported_rights(pack: PolicyPack) -> list[str]:
    """The request types this controller honours: those with a rule in at least one system."""
    present = {t for system in pack.systems for t in system["actions"]}
    return [t for t in REQUEST_TYPE_NAMES if t in present]


def notification_steps(
    pack: PolicyPack, request_type: str, purposes: set[str] | None = None
) -> list[SystemStep]:
    """Rectification, erasure and restriction are told to every recipient (GDPR Art. 19); a
    consent withdrawal to the recipients of the purposes it names."""
    steps = []
    for recipient in pack.document.get("recipients", []):
        if request_type not in recipient["notify_on"]:
            continue
        covered = set(recipient.get("purposes") or [])
        withdrawn_elsewhere = purposes and covered and not any_related(purposes, covered)
        if request_type == "consent_withdrawal" and withdrawn_elsewhere:
            continue
        connector = dict(recipient["connector"])
        if recipient.get("impossible_reason"):
            connector["impossible_reason"] = recipient["impossible_reason"]
        steps.append(
            SystemStep(
                system=f"notify-{recipient['name']}",
                action="notify",
                connector=connector,
                rule={"action": "notify", "citation": recipient["citation"]},
                disclosure={
                    "description": recipient.get("description", ""),
                    "role": recipient["role"],
                    "country": recipient.get("country"),
                },
            )
        )
    return steps
