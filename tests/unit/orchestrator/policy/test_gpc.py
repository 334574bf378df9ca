"""Global Privacy Control: who honours it, what it withdraws, by when; and the intake's use of it."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from orchestrator.intake.consent import admit_consent, group_changes
from orchestrator.policy.gpc import gpc_due, gpc_refusal, required_by_law
from orchestrator.policy.packs import PolicyPack, load_packs
from schemas import ContractViolation
from schemas.models import ConsentChange

PACKS = load_packs()
FRIDAY = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)


def _pack(gpc: dict | None, jurisdictions: list[str]) -> PolicyPack:
    document = {**PACKS["upjunoo"].document, "jurisdictions": jurisdictions}
    document.pop("gpc", None)
    if gpc is not None:
        document["gpc"] = gpc
    return replace(PACKS["upjunoo"], document=document)


def _signal(tenant: str = "upjunoo", **change) -> ConsentChange:
    values = {
        "event_id": "g1", "tenant": tenant, "subject": {"email": "gpc@example.org"},
        "purposes": ("sale_and_sharing",), "action": "withdraw", "occurred_at": FRIDAY, "signal": "gpc",
        **change,
    }  # fmt: skip
    return ConsentChange(**values)


def test_gpc_is_honoured_where_the_law_requires_it_or_the_pack_opts_in():
    mapped = {"purposes": ["marketing.advertising"]}
    assert required_by_law(["US"]) and required_by_law(["us-ca"]) and not required_by_law(["CA", "BE"])
    assert gpc_refusal(_pack(mapped, ["US"])) is None
    assert "requires" in (gpc_refusal(_pack(mapped, ["BE"])) or "")
    assert gpc_refusal(_pack({**mapped, "honour": True}, ["BE"])) is None
    assert "does not honour" in (gpc_refusal(_pack({**mapped, "honour": False}, ["US"])) or "")
    assert "maps no purposes" in (gpc_refusal(_pack(None, ["US"])) or "")


def test_downstream_systems_have_fifteen_business_days():
    assert gpc_due(FRIDAY) == datetime(2026, 12, 11, 10, 0, tzinfo=UTC)  # three weeks, weekends skipped


def test_the_intake_withdraws_the_packs_gpc_purposes_with_the_legal_date():
    [(batch, [entry])] = group_changes([_signal()], PACKS, b"test-key")
    assert entry.purposes == ["marketing.advertising"], "the pack decides, not the site's purposes"
    assert entry.due_at == gpc_due(FRIDAY).isoformat()
    assert {s.step.system for s in batch.systems} == {"crm", "marketing_list", "notify-ad-partners"}
    plain_change = replace(_signal(), signal=None, purposes=("marketing",))
    [(_, [plain])] = group_changes([plain_change], PACKS, b"test-key")
    assert plain.purposes == ["marketing"] and plain.due_at is None


def test_the_intake_refuses_a_gpc_grant_and_a_signal_the_tenant_does_not_honour():
    admit_consent(_signal(), PACKS)
    with pytest.raises(ContractViolation) as grant:
        admit_consent(_signal(action="grant"), PACKS)
    assert grant.value.reason == "gpc_not_a_withdrawal"
    with pytest.raises(ContractViolation) as unmapped:
        admit_consent(_signal(tenant="jsm"), PACKS)
    assert unmapped.value.reason == "gpc_not_honoured"
