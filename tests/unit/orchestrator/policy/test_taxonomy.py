"""One vocabulary (issue 14, item 3): fideslang keys checked at pack load, the hierarchy in
purpose matching, and a consent change or objection naming an unknown purpose refused."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from orchestrator.intake.admission import admit_request
from orchestrator.intake.consent import admit_consent, group_changes
from orchestrator.policy.packs import PackError, PolicyPack, parse_pack
from orchestrator.policy.plan import plan_request
from orchestrator.policy.taxonomy import fideslang_data_categories, fideslang_data_uses, related
from schemas import ContractViolation
from schemas.models import ConsentChange

TEST_PACKS = Path(__file__).resolve().parents[3] / "integration" / "packs"
REF_KEY = b"test-subject-ref-key-of-32-bytes"


def _system(name: str, purposes: list[str], categories: tuple[str, ...] = ("user.contact.email",)) -> dict:
    rule = {"action": "stop_processing", "purposes": purposes, "citation": "test"}
    return {
        "name": name,
        "categories": list(categories),
        "purposes": purposes,
        "connector": {"kind": "manual"},
        "actions": {"consent_withdrawal": rule, "objection": rule},
    }


def _document(*systems: dict, **extra: Any) -> dict:
    document = copy.deepcopy(json.loads((TEST_PACKS / "shop.json").read_text()))
    document.update(tenant="vocab", systems=list(systems), **extra)
    return document


def _pack(*systems: dict, **extra: Any) -> PolicyPack:
    return parse_pack(_document(*systems, **extra), "vocab.json")


MAILING = _system("mailing", ["marketing.communications.email"])
ADS = _system("ads", ["marketing.advertising.first_party.targeted"])
SUPPORT = _system("support", ["essential.service.operations.support"])
PACK = _pack(MAILING, ADS, SUPPORT)


def test_the_default_fideslang_taxonomy_is_the_vocabulary():
    assert {"marketing", "marketing.communications.email", "essential.service"} <= fideslang_data_uses()
    assert {"user.contact.email", "user.financial"} <= fideslang_data_categories()


def test_withdrawing_marketing_reaches_every_marketing_system_and_only_those():
    steps = plan_request(PACK, "consent_withdrawal", {"purposes": ["marketing"]})
    assert {s.system for s in steps} == {"mailing", "ads"}


def test_an_objection_to_advertising_reaches_the_advertising_systems():
    steps = plan_request(PACK, "objection", {"purposes": ["marketing.advertising"]})
    assert [s.system for s in steps] == ["ads"]


def test_a_narrower_purpose_reaches_a_system_declaring_the_broader_one():
    pack = _pack(_system("crm", ["marketing"]), SUPPORT)
    steps = plan_request(pack, "consent_withdrawal", {"purposes": ["marketing.communications.email"]})
    assert [s.system for s in steps] == ["crm"]


def test_siblings_are_not_related():
    assert related("marketing", "marketing.advertising")
    assert related("marketing.advertising.first_party", "marketing.advertising")
    assert not related("marketing.advertising", "marketing.communications.email")
    assert not related("market", "marketing"), "a prefix of a word is not a parent"


def test_a_consent_withdrawal_grouped_in_a_batch_follows_the_hierarchy():
    change = ConsentChange(event_id="a", tenant="vocab", subject={"email": "a@example.org"},
                           purposes=("marketing",), action="withdraw",
                           occurred_at=datetime(2026, 11, 23, tzinfo=UTC))  # fmt: skip
    [(batch, _)] = group_changes([change], {"vocab": PACK}, REF_KEY)
    assert {share.step.system for share in batch.systems} == {"mailing", "ads"}


def test_a_dotted_key_outside_the_taxonomy_is_refused_unless_the_pack_declares_it():
    with pytest.raises(
        PackError, match=r"vocab.json: systems/0/purposes: 'marketing.emails' is not a fideslang"
    ):
        _pack(_system("mailing", ["marketing.emails"]))
    with pytest.raises(
        PackError, match=r"systems/0/categories: 'user.shoe_size' is not a fideslang data category"
    ):
        _pack(_system("mailing", ["marketing"], ("user.shoe_size",)))
    declared = _pack(
        _system("mailing", ["marketing.emails"], ("user.shoe_size",)),
        taxonomy_extensions={"data_uses": ["marketing.emails"], "data_categories": ["user.shoe_size"]},
    )
    assert declared.system("mailing")["purposes"] == ["marketing.emails"]


def test_a_free_word_is_refused_unless_the_pack_declares_it_an_alias():
    with pytest.raises(PackError, match=r"systems/0/purposes: 'newsletter' is not a fideslang data use"):
        _pack(_system("crm", ["newsletter"]))
    with pytest.raises(PackError, match=r"systems/0/categories: 'customer data' is not a fideslang data"):
        _pack(_system("crm", ["marketing"], ("customer data",)))


ALIASED = _pack(MAILING, ADS, SUPPORT, purpose_aliases={"newsletter": "marketing.communications.email"})


def test_an_older_word_reaches_the_systems_of_the_data_use_it_stands_for_which_is_recorded():
    admission = admit_request(_objection(["newsletter"]), {"vocab": ALIASED}, REF_KEY)
    assert [s.system for s in admission.workflow_input.steps] == ["mailing"]
    assert admission.workflow_input.details["purposes"] == ["marketing.communications.email"]
    assert admission.workflow_input.details["purposes_as_named"] == ["newsletter"]
    [(batch, [entry])] = group_changes([_consent(("newsletter", "marketing.communications.email"))],
                                       {"vocab": ALIASED}, REF_KEY)  # fmt: skip
    assert entry.purposes == ["marketing.communications.email"], "the canonical key, once"
    assert [share.step.system for share in batch.systems] == ["mailing"]


def test_the_dlq_reason_lists_the_older_words_too():
    with pytest.raises(ContractViolation) as caught:
        admit_consent(_consent(("marketing_email",)), {"vocab": ALIASED})
    assert caught.value.detail.endswith("or the older words ['newsletter']")


def test_an_alias_must_stand_for_a_known_data_use_and_not_be_one():
    with pytest.raises(PackError, match=r"purpose_aliases/newsletter: 'marketing.emails' is not a fideslang"):
        _pack(MAILING, purpose_aliases={"newsletter": "marketing.emails"})
    with pytest.raises(PackError, match=r"purpose_aliases/marketing: 'marketing' is a data use itself"):
        _pack(MAILING, purpose_aliases={"marketing": "marketing.communications.email"})


def test_an_extension_is_new_and_sits_under_an_existing_parent():
    def uses(*declared: Any) -> PolicyPack:
        return _pack(MAILING, taxonomy_extensions={"data_uses": list(declared)})

    with pytest.raises(PackError, match=r"data_uses/0: 'marketing.advertising' is a fideslang key"):
        uses({"fides_key": "marketing.advertising", "name": "Ads", "description": "ads"})
    with pytest.raises(PackError, match=r"taxonomy_extensions/data_uses/0: 'pets.dogs' has no parent"):
        uses({"fides_key": "pets.dogs", "name": "Dogs", "description": "dogs"})
    with pytest.raises(PackError, match=r"taxonomy_extensions/data_uses/0: .*is not valid"):
        uses({"fides_key": "essential.service.sos_alerts", "name": "SOS alerts"})  # no description
    parent = {"fides_key": "essential.service.sos_alerts", "name": "SOS alerts", "description": "SOS"}
    child = {"fides_key": "essential.service.sos_alerts.sms", "name": "SOS by SMS", "description": "SMS"}
    assert uses(child, parent).tenant == "vocab", "a parent may itself be an extension"


def _consent(purposes: tuple[str, ...], action: str = "withdraw") -> ConsentChange:
    return ConsentChange(event_id="e", tenant="vocab", subject={"email": "a@example.org"}, purposes=purposes,
                         action=action, occurred_at=datetime(2026, 11, 23, tzinfo=UTC))  # fmt: skip


def test_a_consent_change_naming_an_unknown_purpose_is_refused_with_the_known_ones():
    with pytest.raises(ContractViolation) as caught:
        admit_consent(_consent(("marketing_email",)), {"vocab": PACK})
    assert caught.value.reason == "unknown_purpose"
    assert "['marketing_email'] not known to tenant 'vocab'" in caught.value.detail
    assert "'marketing.communications.email'" in caught.value.detail, "the tenant's purposes are listed"
    for known in (("marketing",), ("marketing.communications.email",), ("analytics",)):
        admit_consent(_consent(known), {"vocab": PACK})  # its own, a parent of its own, a fideslang use


def _objection(purposes: list[str]) -> bytes:
    return json.dumps({
        "request_id": "6f1c2d3e-4b5a-4c7d-8e9f-0a1b2c3d4e5f", "tenant": "vocab", "type": "objection",
        "subject": {"email": "ada@example.org"}, "jurisdiction": "BE",
        "submitted_at": "2026-11-02T10:00:00+01:00", "details": {"purposes": purposes},
    }).encode()  # fmt: skip


def test_an_objection_naming_an_unknown_purpose_is_refused_and_a_known_one_admitted():
    with pytest.raises(ContractViolation) as caught:
        admit_request(_objection(["marketing_email"]), {"vocab": PACK}, REF_KEY)
    assert caught.value.reason == "unknown_purpose"
    assert caught.value.detail.startswith("details/purposes: ['marketing_email'] not known to tenant 'vocab'")
    admission = admit_request(_objection(["marketing"]), {"vocab": PACK}, REF_KEY)
    assert {s.system for s in admission.workflow_input.steps} == {"mailing", "ads"}


def test_an_objection_under_an_absolute_purpose_is_absolute_too():
    pack = _pack(MAILING, ADS, SUPPORT, objection={"absolute_purposes": ["marketing"], "citation": "test"})
    admission = admit_request(_objection(["marketing.communications.email"]), {"vocab": pack}, REF_KEY)
    assert "marketing.communications.email" in admission.workflow_input.absolute_objection_purposes
    other = admit_request(_objection(["essential.service"]), {"vocab": pack}, REF_KEY)
    assert other.workflow_input.absolute_objection_purposes == ["marketing"]


def test_a_plan_discloses_the_human_names_of_the_fideslang_keys_and_the_packs_extensions():
    sos = {"fides_key": "essential.service.sos_alerts", "name": "SOS alerts", "description": "seed"}
    purposes = ["marketing.communications.email", "essential.service.sos_alerts"]
    pack = _pack(
        _system("crm", purposes, ("user.contact.email",)),
        taxonomy_extensions={"data_uses": [sos]},
    )
    [step] = plan_request(pack, "objection")
    assert step.disclosure["names"] == {
        "user.contact.email": "User Contact Email",
        "marketing.communications.email": "Marketing Email Communications",
        "essential.service.sos_alerts": "SOS alerts",
    }
