"""Identity rules of the tenants: documents (J2S), agents (Jump), minors (JSM 16, Nexio 18), fees."""

import pytest

from orchestrator.policy.identity import verification_reason
from orchestrator.policy.packs import load_packs

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


@pytest.mark.parametrize(
    ("tenant", "age", "needs_check"),
    [("jsm", 15, True), ("jsm", 16, False), ("nexio", 17, True), ("nexio", 18, False)],
)
def test_minors_need_a_guardian(tenant, age, needs_check):
    reason = verification_reason(PACKS[tenant], {"subject_age": age})
    assert (reason is not None) is needs_check
    if needs_check:
        assert "guardian" in reason
