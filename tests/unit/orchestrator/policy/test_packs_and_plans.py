"""Policy packs load, validate with errors that name the field, and plan per request type."""

import json
from datetime import datetime

import pytest

from orchestrator.intake.admission import admit_request, dlq_key, dlq_record
from orchestrator.policy.packs import PackError, load_pack_file, load_packs, parse_pack
from orchestrator.policy.plan import plan_request
from schemas import ContractViolation

REF_KEY = b"test-subject-ref-key-of-32-bytes"


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
    systems |= {"orders", "device_data"}  # order history (limitation period), the phone's data
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
    assert notified == {
        "notify-tangier-office", "notify-delivery-providers",
        "notify-hosting-provider", "notify-communications-provider", "notify-payment-processor",
    }  # fmt: skip


def test_the_inventory_holds_what_the_seeds_promise(packs):
    """UPJUNOO's orders, location, SOS contacts, photos and device data; Jump's processors;
    JSM's re-orders processor and third-party sharing consent; Nexio's social platforms."""
    erasure = {s.system: s for s in plan_request(packs["upjunoo"], "erasure")}
    assert erasure["orders"].action == "retain" and "prescription" in erasure["orders"].rule["legal_basis"]
    tables = {t["table"] for t in erasure["device_data"].connector["tables"]}
    assert erasure["device_data"].action == "erase"
    assert tables == {"locations", "sos_contacts", "photos", "devices"}
    jsm = {s.system for s in plan_request(packs["jsm"], "erasure")}
    assert {"notify-reorders-processor", "notify-third-parties-with-consent", "sharing_consents"} <= jsm
    third_parties = {"purposes": ["third_party_sharing"]}
    sharing = {s.system for s in plan_request(packs["jsm"], "consent_withdrawal", third_parties)}
    assert sharing == {"sharing_consents", "notify-third-parties-with-consent"}
    newsletter = {"purposes": ["marketing.communications.email"]}
    marketing = {s.system for s in plan_request(packs["jsm"], "consent_withdrawal", newsletter)}
    assert marketing and "notify-third-parties-with-consent" not in marketing, "told only of theirs"
    [social] = [s for s in plan_request(packs["nexio"], "erasure") if s.system == "notify-social-platforms"]
    assert social.connector["kind"] == "none" and "no access" in social.connector["impossible_reason"]


def test_consent_withdrawal_reaches_only_systems_using_those_purposes(packs):
    newsletter = {"purposes": ["marketing.communications.email"]}
    steps = plan_request(packs["jump"], "consent_withdrawal", newsletter)
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
    admission = admit_request(_event(), packs, REF_KEY)
    assert admission.workflow_input.request_type == "access"
    assert len(admission.workflow_input.steps) == 8  # access tells no recipient
    assert admission.due_at == datetime.fromisoformat("2026-12-02T10:00:00+01:00"), "30 days, Paris clock"


def test_an_unknown_tenant_is_refused_with_that_reason(packs):
    with pytest.raises(ContractViolation) as caught:
        admit_request(_event(tenant="nobody"), packs, REF_KEY)
    assert caught.value.reason == "unknown_tenant"


def test_dlq_record_keeps_the_original_bytes():
    raw = b"\xff\x00 binary"
    record = dlq_record(raw, ContractViolation("malformed_json", "bad"), topic="t", partition=1, offset=7)
    assert record["raw_encoding"] == "base64"
    assert record["offset"] == 7
    assert dlq_key(_event()) == b"6f1c2d3e-4b5a-4c7d-8e9f-0a1b2c3d4e5f"
    assert dlq_key(raw) is None


def test_a_pack_whose_sql_relations_form_a_cycle_is_refused_at_load(packs):
    document = json.loads(json.dumps(packs["upjunoo"].document))
    document["systems"][0]["connector"]["tables"] += [
        {"table": "a", "references": [{"column": "b_id", "to": "b.id"}]},
        {"table": "b", "references": [{"column": "a_id", "to": "a.id"}]},
    ]
    with pytest.raises(PackError, match=r"systems/0/connector/tables \(crm\): the relations form a cycle"):
        parse_pack(document, "broken.json")


def test_a_pack_referencing_a_table_it_does_not_list_is_refused_at_load(packs):
    document = json.loads(json.dumps(packs["upjunoo"].document))
    document["systems"][0]["connector"]["tables"].append(
        {"table": "loyalty", "references": [{"column": "customer_id", "to": "clients.customer_id"}]}
    )
    with pytest.raises(PackError, match="does not list table 'clients'"):
        parse_pack(document, "broken.json")


def test_a_rule_keeping_rows_of_a_table_the_system_does_not_list_is_refused_at_load(packs):
    document = json.loads(json.dumps(packs["jump"].document))
    deliveries = next(i for i, s in enumerate(document["systems"]) if s["name"] == "deliveries")
    document["systems"][deliveries]["actions"]["erasure"]["keep_referenced"][0]["table"] = "parcels"
    with pytest.raises(PackError, match="keep_referenced: table 'parcels' is not one of deliveries's tables"):
        parse_pack(document, "broken.json")


def test_each_step_says_whether_its_system_answers_later(packs):
    """The request workflow acts directly on systems that answer in the call and starts a child
    for the others: the intake marks each step from its connector kind's capability."""
    admission = admit_request(_event(type="erasure"), packs, REF_KEY)
    later = {step.connector["kind"]: step.answers_later for step in admission.workflow_input.steps}
    assert later["sql"] is False and later["http"] is False
    assert later["kafka_confirm"] is True and later["opendsr"] is True
