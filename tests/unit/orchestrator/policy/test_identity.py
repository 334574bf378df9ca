"""Identity rules of the tenants: documents (J2S), agents (Jump); minors' rules as the seeds say
(JSM deletes a child's data on report, Nexio restricts website use), never a gate on their rights."""

from datetime import UTC, datetime, timedelta

import pytest

from orchestrator.policy.identity import identities_to_verify, user_verification_until, verification_reason
from orchestrator.policy.packs import load_packs
from orchestrator.policy.plan import plan_request

PACKS = load_packs()


def test_j2s_waits_for_an_operator_to_check_the_identity_document():
    assert (
        verification_reason(PACKS["j2s"], {"document": "c2NhbiBvZiBhbiBJRA=="})
        == "identity document to check"
    )
    assert "missing" in verification_reason(PACKS["j2s"], {})


def test_upjunoo_matches_identities_automatically():
    assert verification_reason(PACKS["upjunoo"], {}) is None


def test_jump_accepts_an_authorised_agent_after_a_check_and_upjunoo_does_not_provide_for_agents():
    assert "authorised agent" in verification_reason(PACKS["jump"], {"agent": "Maître Dupont"})
    assert "does not provide" in verification_reason(PACKS["upjunoo"], {"agent": "someone"})


def test_an_agent_below_the_tenants_rule_leaves_the_person_to_verify_within_the_window():
    pack = PACKS["jump"]
    rule = {
        **pack.document["identity"],
        "agent_verified": ["email", "phone"],
        "user_verification_within": "PT30S",
    }
    strict = type(pack)(**{**vars(pack), "document": {**pack.document, "identity": rule}})
    subject = {"email": "ada@example.org", "phone": "+32 470 00 00 01"}
    assert identities_to_verify(strict, "access", subject, ["email", "phone_number"]) == []
    assert identities_to_verify(strict, "erasure", subject, ["email"]) == ["phone"]
    assert identities_to_verify(strict, "access", {"email": "ada@example.org"}, []) == ["email"]  # no phone
    assert identities_to_verify(pack, "access", subject, []) == [], "no rule: the agent's word suffices"
    assert identities_to_verify(strict, "consent_withdrawal", subject, []) == [], "an opt-out is not verified"
    now = datetime(2026, 11, 23, tzinfo=UTC)
    assert user_verification_until(strict, now) == now + timedelta(seconds=30)
    assert user_verification_until(pack, now) == now + timedelta(days=14)
    asked = {"agent": "Agent", "user_verification": {"identities": ["phone"], "until": now.isoformat()}}
    assert verification_reason(strict, asked).startswith("the person must verify their identity")


@pytest.mark.parametrize(("tenant", "age"), [("jsm", 15), ("nexio", 17), ("nexio", 12)])
def test_a_minors_own_request_is_never_held_back_for_a_guardian(tenant, age):
    assert verification_reason(PACKS[tenant], {"subject_age": age}) is None


def test_jsm_erases_a_childs_data_reported_as_collected_without_parental_consent():
    flagged = {"minor_without_parental_consent": True}
    steps = {s.system: s for s in plan_request(PACKS["jsm"], "erasure", flagged)}
    assert {s.action for name, s in steps.items() if not name.startswith("notify-")} == {"erase"}
    assert steps["billing"].rule["replaces"] == "retain", "kept invoices too: they should not exist"
    assert "zonder die toestemming" in steps["billing"].rule["citation"]
    usual = {s.system: s.action for s in plan_request(PACKS["jsm"], "erasure")}
    assert usual["billing"] == "retain"


def test_nexio_age_rule_restricts_website_use_not_rights():
    minors = PACKS["nexio"].document["minors"]
    assert minors["age"] == 18 and minors["restricts_purposes"] == ["website use"]
    flagged = {"minor_without_parental_consent": True}
    assert {s.action for s in plan_request(PACKS["nexio"], "erasure", flagged)} == {
        s.action for s in plan_request(PACKS["nexio"], "erasure")
    }, "Nexio's policy makes no such promise: the usual erasure rules apply"
