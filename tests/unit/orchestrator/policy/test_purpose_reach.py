"""The packs speak fideslang, and every word events used before still reaches the same systems.

``purpose_reach_before_fideslang.json`` was recorded from the five seed packs while they still
named purposes in free text (main at 908adec): for each tenant and each purpose word its pack
used, which systems an objection, a consent-withdrawal request and a consent change naming that
word reached, and whether the objection was absolute. The same events, sent now, must reach the
same systems: the old words are the packs' ``purpose_aliases`` of fideslang data uses.
``CORRECTIONS`` lists, with the reason, the few answers that change on purpose.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from orchestrator.intake.admission import admit_request
from orchestrator.intake.consent import admit_consent, group_changes
from orchestrator.policy.packs import BUILTIN_PACKS_DIR, PolicyPack, load_packs
from orchestrator.policy.plan import plan_request
from orchestrator.policy.taxonomy import (
    extensions,
    fideslang_data_categories,
    fideslang_data_uses,
    purpose_aliases,
    related,
)
from schemas.models import ConsentChange

REF_KEY = b"test-subject-ref-key-of-32-bytes"
BEFORE = json.loads((Path(__file__).parent / "purpose_reach_before_fideslang.json").read_text("utf-8"))
GPC = "(gpc signal)"

# (tenant, word, what) -> (the answer now, why it changed). Before, an objection was absolute
# only when it named one of the exact words the pack listed, and a word no consent rule listed
# reached nothing. Direct marketing is direct marketing whatever the word (GDPR Art. 21(3)):
# a newsletter and (J2S) commercial prospecting are, and Nexio's "correspondence" (promotional
# mail, seed 004) is the very list its correspondence system holds.
DIRECT_MARKETING = "an objection to direct marketing is absolute (GDPR Art. 21(3)), a newsletter included"
CORRECTIONS: dict[tuple[str, str, str], tuple[Any, str]] = {
    ("upjunoo", "newsletter", "objection_absolute"): (True, DIRECT_MARKETING),
    ("nexio", "newsletter", "objection_absolute"): (True, DIRECT_MARKETING),
    ("j2s", "newsletter", "objection_absolute"): (True, DIRECT_MARKETING),
    ("j2s", "commercial prospecting", "objection_absolute"): (
        True,
        "the seed's 'commercial prospecting purposes' are the absolute 'commercial_prospecting'",
    ),
    ("upjunoo", "advertising", "objection"): (
        ["crm", "marketing_list"],
        "the marketing list holds the advertising identifiers (seed 001 §3, « Identifiant publicitaire »): "
        "an objection to advertising, absolute for UPJUNOO, stops it too",
    ),
    ("nexio", "correspondence", "objection"): (
        ["correspondence", "crm"],
        "objecting to promotional mail stops the list it is sent from",
    ),
    **{
        ("nexio", "correspondence", what): (
            ["correspondence", "crm"],
            "withdrawing promotional mail reaches the list it is sent from (it reached nothing)",
        )
        for what in ("consent_withdrawal", "consent_change")
    },
}


@pytest.fixture(scope="module")
def packs() -> dict[str, PolicyPack]:
    return load_packs([BUILTIN_PACKS_DIR])


def reach(packs: dict[str, PolicyPack], tenant: str, word: str) -> dict[str, Any]:
    """Which systems events naming ``word`` reach for ``tenant``, through the intake's doors."""
    if word == GPC:
        return {"consent_change": _consent_change(packs, tenant, "sale", signal="gpc")}
    found: dict[str, Any] = {}
    for request_type in ("objection", "consent_withdrawal"):
        raw = json.dumps({
            "request_id": str(uuid.uuid4()), "tenant": tenant, "type": request_type,
            "subject": {"email": "ada@example.org"}, "jurisdiction": "BE",
            "submitted_at": "2026-11-02T10:00:00+01:00", "details": {"purposes": [word]},
        }).encode()  # fmt: skip
        admitted = admit_request(raw, packs, REF_KEY, now=datetime(2026, 11, 3, tzinfo=UTC))
        found[request_type] = sorted(step.system for step in admitted.workflow_input.steps)
        if request_type == "objection":
            named = set(admitted.workflow_input.details["purposes"])
            found["objection_absolute"] = named <= set(admitted.workflow_input.absolute_objection_purposes)
    found["consent_change"] = _consent_change(packs, tenant, word)
    return found


def _consent_change(
    packs: dict[str, PolicyPack], tenant: str, word: str, signal: str | None = None
) -> list[str]:
    change = ConsentChange(
        event_id="e",
        tenant=tenant,
        subject={"email": "a@example.org"},
        purposes=(word,),
        action="withdraw",
        occurred_at=datetime(2026, 11, 23, tzinfo=UTC),
        signal=signal,
    )
    admit_consent(change, packs)
    [(batch, _)] = group_changes([change], packs, REF_KEY)
    return sorted(share.step.system for share in batch.systems)


@pytest.mark.parametrize(
    ("tenant", "word"), [(tenant, word) for tenant, words in sorted(BEFORE.items()) for word in sorted(words)]
)
def test_every_word_a_pack_used_still_reaches_the_same_systems(packs, tenant, word):
    expected = dict(BEFORE[tenant][word])
    for (t, w, what), (now, _why) in CORRECTIONS.items():
        if (t, w) == (tenant, word):
            expected[what] = now
    assert reach(packs, tenant, word) == expected


def test_each_correction_changes_what_was_recorded():
    for (tenant, word, what), (now, why) in CORRECTIONS.items():
        assert BEFORE[tenant][word][what] != now, f"{tenant}/{word}/{what} is no correction: {why}"


TENANTS = ["upjunoo", "jump", "jsm", "j2s", "nexio"]


def _is_marketing(purposes: list[str], under: str) -> bool:
    return any(related(under, purpose) for purpose in purposes)


@pytest.mark.parametrize("tenant", TENANTS)
def test_the_packs_validate_against_fideslang(packs, tenant):
    """Every category and purpose is a fideslang key or an extension the pack declares, with a
    name, a description and an existing parent; every alias stands for a data use."""
    document = packs[tenant].document
    declared_uses = {item["fides_key"]: item for item in extensions(document, "data_uses")}
    declared_categories = {item["fides_key"]: item for item in extensions(document, "data_categories")}
    uses = fideslang_data_uses() | set(declared_uses)
    categories = fideslang_data_categories() | set(declared_categories)
    for key, item in {**declared_uses, **declared_categories}.items():
        assert item["name"] and item["description"], f"{key}: an extension says what it is"
        assert key.rsplit(".", 1)[0] in uses | categories, f"{key}: its parent exists"
        assert key not in fideslang_data_uses() | fideslang_data_categories(), f"{key}: it is new"
    for system in document["systems"]:
        assert set(system["categories"]) <= categories, system["name"]
        assert set(system["purposes"]) <= uses, system["name"]
        for rule in system["actions"].values():
            assert set(rule.get("purposes") or []) <= uses, system["name"]
    for recipient in document.get("recipients", []):
        assert set(recipient.get("purposes") or []) <= uses, recipient["name"]
    assert set(document["objection"]["absolute_purposes"]) <= uses
    assert set((document.get("gpc") or {}).get("purposes") or []) <= uses
    assert set(purpose_aliases(document).values()) <= uses
    assert not set(purpose_aliases(document)) & uses, "an alias is an older word, not a data use"


def _told_of_withdrawals(document: dict[str, Any], under: str) -> set[str]:
    """Recipients told of a withdrawal under ``under``: those of its purposes, or of every one."""
    return {
        f"notify-{r['name']}"
        for r in document.get("recipients", [])
        if "consent_withdrawal" in r["notify_on"]
        and (not r.get("purposes") or _is_marketing(r["purposes"], under))
    }


@pytest.mark.parametrize("tenant", TENANTS)
def test_a_withdrawal_of_marketing_reaches_every_marketing_system_and_only_those(packs, tenant):
    document = packs[tenant].document
    marketing = {
        system["name"]
        for system in document["systems"]
        if "consent_withdrawal" in system["actions"] and _is_marketing(system["purposes"], "marketing")
    }
    steps = plan_request(packs[tenant], "consent_withdrawal", {"purposes": ["marketing"]})
    assert marketing, "every seed markets something"
    assert {step.system for step in steps} == marketing | _told_of_withdrawals(document, "marketing")
    assert {step.system for step in steps} == set(reach(packs, tenant, "marketing")["consent_change"])


@pytest.mark.parametrize("tenant", TENANTS)
def test_an_objection_to_advertising_reaches_the_advertising_systems_never_a_mailing_list(packs, tenant):
    """Systems that advertise stop; so do those whose objection rule names no purpose (they
    hear every objection); a system that only sends e-mail or post is left alone."""
    systems = packs[tenant].systems
    advertising = {s["name"] for s in systems if _is_marketing(s["purposes"], "marketing.advertising")}
    hears_all = {
        s["name"]
        for s in systems
        if "objection" in s["actions"] and not s["actions"]["objection"].get("purposes")
    }
    steps = plan_request(packs[tenant], "objection", {"purposes": ["marketing.advertising"]})
    assert {step.system for step in steps} == {
        s for s in advertising if "objection" in packs[tenant].system(s)["actions"]
    } | hears_all


def test_upjunoo_advertising_systems_are_its_marketing_list(packs):
    steps = plan_request(packs["upjunoo"], "objection", {"purposes": ["marketing.advertising"]})
    assert {step.system for step in steps} == {"crm", "marketing_list"}


def test_an_access_report_names_the_seeds_own_keys_in_the_seeds_words(packs):
    """A DPO and the subject read fideslang names, and the pack's extensions by the names the
    pack gives them (UPJUNOO's SOS alerts, phone book)."""
    steps = {step.system: step for step in plan_request(packs["upjunoo"], "access")}
    names = steps["device_data"].disclosure["names"]
    assert names["essential.service.sos_alerts"] == "SOS alerts"
    assert names["user.content.private.phone_book"] == "Phone book contacts"
    assert names["user.location.precise"] == "Precise Subject Location"
    assert set(steps["device_data"].disclosure["categories"]) <= set(names), "every key has a name"
