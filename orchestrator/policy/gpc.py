"""Global Privacy Control: whether a tenant honours a browser's GPC signal, and what it withdraws. Pure.

A site forwards ``Sec-GPC: 1`` as a ``privacy.consent.v1`` withdrawal with ``"signal": "gpc"``.
California (CCPA regulations §7025) and the US states that followed require businesses to
treat it as a request to opt out of sale/sharing; elsewhere a tenant may still honour it. The
pack's ``gpc`` section names the purposes it maps the signal to and may set ``honour`` (true:
always; false: never); without ``honour``, it is honoured when one of the pack's jurisdictions
requires it. Downstream systems must stop within 15 business days (§7026(f)(1)).
"""

from __future__ import annotations

from datetime import datetime

from orchestrator.policy.deadlines import add_business_days
from orchestrator.policy.packs import PolicyPack

GPC_REQUIRED_IN = frozenset({"US"})  # ISO 3166-1; US-CA, US-CO, ... subdivisions count too
GPC_BUSINESS_DAYS = 15
GPC_DEADLINE_BASIS = "CCPA regulations §7026(f)(1): opt-out honoured within 15 business days"


def required_by_law(jurisdictions: list[str]) -> bool:
    return any(j.upper().split("-")[0] in GPC_REQUIRED_IN for j in jurisdictions)


def gpc_refusal(pack: PolicyPack) -> str | None:
    """Why the tenant does not honour a GPC signal, or None when it does."""
    rule = pack.document.get("gpc")
    if not rule:
        return f"the {pack.tenant} policy pack maps no purposes to Global Privacy Control"
    honour = rule.get("honour")
    if honour is False:
        return f"the {pack.tenant} policy pack does not honour Global Privacy Control"
    if honour is None and not required_by_law(list(pack.document.get("jurisdictions", []))):
        return (
            f"no jurisdiction of {pack.tenant} requires Global Privacy Control and its pack does not "
            "opt in (gpc.honour)"
        )
    return None


def gpc_purposes(pack: PolicyPack) -> list[str]:
    """The purposes a GPC signal withdraws for this tenant (its pack's mapping)."""
    return list((pack.document.get("gpc") or {}).get("purposes", []))


def gpc_due(occurred_at: datetime) -> datetime:
    """When every downstream system must have stopped: 15 business days after the signal."""
    return add_business_days(occurred_at, GPC_BUSINESS_DAYS)
