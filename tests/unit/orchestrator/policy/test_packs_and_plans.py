"""Policy packs load, validate with errors that name the field, and plan per request type."""

import json

import pytest

from orchestrator.intake.admission import admit_request, dlq_key, dlq_record
from orchestrator.policy.packs import PackError, load_pack_file, load_packs, parse_pack
from orchestrator.policy.plan import plan_request
from schemas import ContractViolation


@pytest.fixture(scope="module")
def packs():
    return load_packs()


def test_builtin_packs_are_valid_and_cite_their_seed(packs):
    assert "upjunoo" in packs
    for pack in packs.values():
        for system in pack.systems:
            for rule in system["actions"].values():
                assert rule["citation"].strip()


def test_upjunoo_erasure_plan_keeps_invoices_for_the_legal_period(packs):
    steps = {s.system: s for s in plan_request(packs["upjunoo"], "erasure")}
    systems = {"crm", "billing", "call_recordings", "support_conversations", "marketing_list", "support_desk"}
    recipients = {"notify-partner-ci", "notify-partner-cd", "notify-partner-ca", "notify-ad-partners"}
    assert set(steps) == systems | recipients
    assert steps["billing"].action == "retain"
    assert steps["billing"].rule["retain_for"] == "P10Y"
    assert steps["support_conversations"].action == "anonymise"
    assert steps["marketing_list"].connector["kind"] == "kafka_confirm"


def test_a_type_without_rules_plans_nothing(packs):
    document = json.loads(json.dumps(packs["upjunoo"].document))
    for system in document["systems"]:
        system["actions"].pop("objection", None)
    assert plan_request(parse_pack(document, "test"), "objection") == []


def test_access_tells_no_recipient_but_rectification_tells_them_all(packs):
    assert not [s for s in plan_request(packs["jump"], "access") if s.action == "notify"]
    notified = {s.system for s in plan_request(packs["jump"], "rectification") if s.action == "notify"}
    assert notified == {"notify-tangier-office", "notify-delivery-providers"}


def test_consent_withdrawal_reaches_only_systems_using_those_purposes(packs):
    steps = plan_request(packs["jump"], "consent_withdrawal", {"purposes": ["newsletter"]})
    assert {s.system for s in steps} == {"crm", "newsletter", "mailing_tool"}
    assert all(s.action == "stop_processing" for s in steps)


def test_j2s_software_publishers_cannot_be_told_and_the_plan_says_why(packs):
    [step] = [s for s in plan_request(packs["j2s"], "erasure") if s.system == "notify-software-publishers"]
    assert step.connector["kind"] == "none"
    assert "hold no copy" in step.connector["impossible_reason"]


def test_a_broken_pack_names_the_field(packs):
    document = json.loads(json.dumps(packs["upjunoo"].document))
    del document["systems"][1]["actions"]["erasure"]["legal_basis"]
    with pytest.raises(PackError, match=r"systems/1/actions/erasure.*legal_basis"):
        parse_pack(document, "broken.json")


def test_a_rule_without_citation_is_refused(packs):
    document = json.loads(json.dumps(packs["upjunoo"].document))
    del document["systems"][0]["actions"]["access"]["citation"]
    with pytest.raises(PackError, match="citation"):
        parse_pack(document, "broken.json")


def test_a_pack_file_must_be_named_after_its_tenant(tmp_path, packs):
    path = tmp_path / "other.json"
    path.write_text(json.dumps(packs["upjunoo"].document))
    with pytest.raises(PackError, match="does not match the file name"):
        load_pack_file(path)


def _event(**change):
    value = {
        "request_id": "6f1c2d3e-4b5a-4c7d-8e9f-0a1b2c3d4e5f",
        "tenant": "upjunoo",
        "type": "access",
        "subject": {"email": "ada@example.org"},
        "jurisdiction": "CI",
        "submitted_at": "2026-11-02T10:00:00+01:00",
    }
    value.update(change)
    return json.dumps(value).encode()


def test_admission_resolves_plan_and_deadline(packs):
    admission = admit_request(_event(), packs)
    assert admission.workflow_input.request_type == "access"
    assert len(admission.workflow_input.steps) == 6  # access tells no recipient
    assert admission.due_at.isoformat().startswith("2026-12-02T10:00:00")


def test_an_unknown_tenant_is_refused_with_that_reason(packs):
    with pytest.raises(ContractViolation) as caught:
        admit_request(_event(tenant="nobody"), packs)
    assert caught.value.reason == "unknown_tenant"


def test_dlq_record_keeps_the_original_bytes():
    raw = b"\xff\x00 binary"
    record = dlq_record(raw, ContractViolation("malformed_json", "bad"), topic="t", partition=1, offset=7)
    assert record["raw_encoding"] == "base64"
    assert record["offset"] == 7
    assert dlq_key(_event()) == b"6f1c2d3e-4b5a-4c7d-8e9f-0a1b2c3d4e5f"
    assert dlq_key(raw) is None
