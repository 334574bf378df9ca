"""DRP 1.0 messages and statuses, without servers: signatures, the spec's check order, statuses."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from nacl.signing import SigningKey

from orchestrator.api.drp_notify import backoff
from orchestrator.api.drp_protocol import (
    Directory,
    Refusal,
    StatusContext,
    business_entry,
    check_claims,
    decode_signed,
    drp_status,
    final_notice,
    open_signed,
    subject_of,
)
from orchestrator.cli.drp import trust_agents

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
KEY = SigningKey.generate()
AGENT = {"id": "AGENT_A", "verify_key": base64.b64encode(bytes(KEY.verify_key)).decode()}


def _claims(**change) -> dict:
    return {
        "agent-id": "AGENT_A", "business-id": "BIZ", "issued-at": NOW.isoformat(),
        "expires-at": (NOW + timedelta(minutes=5)).isoformat(), "drp.version": "1.0", **change,
    }  # fmt: skip


def _signed(claims: dict, key: SigningKey = KEY) -> bytes:
    return base64.b64encode(bytes(key.sign(json.dumps(claims).encode())))


def test_a_signed_message_opens_with_the_agents_key_only():
    claims = _claims()
    assert open_signed(decode_signed(_signed(claims)), AGENT) == claims
    with pytest.raises(Refusal) as forged:
        open_signed(decode_signed(_signed(claims, SigningKey.generate())), AGENT)
    assert forged.value.status == 403 and forged.value.body()["code"] == "403"
    tampered = bytearray(decode_signed(_signed(claims)))
    tampered[-2] ^= 1
    with pytest.raises(Refusal):
        open_signed(bytes(tampered), AGENT)
    with pytest.raises(Refusal) as short:
        decode_signed(base64.b64encode(b"x" * 64))
    assert short.value.status == 400


@pytest.mark.parametrize(
    ("change", "status", "words"),
    [
        ({"agent-id": "AGENT_B"}, 403, "agent-id"),
        ({"business-id": "OTHER"}, 403, "wrong business"),
        ({"issued-at": (NOW + timedelta(minutes=5)).isoformat()}, 400, "future"),
        ({"expires-at": (NOW - timedelta(seconds=1)).isoformat()}, 400, "expired"),
        ({"expires-at": "yesterday"}, 400, "ISO 8601"),
        ({"drp.version": "0.9.4"}, 400, "drp.version"),
        # The spec's order: a wrong agent is reported before an expired window or a bad version.
        ({"agent-id": "AGENT_B", "expires-at": NOW.isoformat(), "drp.version": "0"}, 403, "agent-id"),
    ],
)
def test_claims_are_checked_in_the_specs_order(change, status, words):
    with pytest.raises(Refusal) as refused:
        check_claims(_claims(**change), "AGENT_A", {"BIZ"}, NOW)
    assert refused.value.status == status and words in refused.value.message


def test_valid_claims_answer_their_expiry_and_identities_map_to_ours():
    assert check_claims(_claims(), "AGENT_A", {"BIZ"}, NOW) == NOW + timedelta(minutes=5)
    claims = {"email": "a@example.org", "email_verified": True, "phone_number": "+1555"}
    subject, verified = subject_of(claims)
    assert subject == {"email": "a@example.org", "phone": "+1555"} and verified == ["email"]
    with pytest.raises(Refusal):
        subject_of({"name": "only a name"})


def _row(**change) -> dict:
    return {
        "request_id": "r1", "received_at": NOW, "agent_request_id": "mine", "revoked_at": None,
        "ledger_status": None, "ledger_reason": None, "ledger_flags": [], "due_at": None, **change,
    }  # fmt: skip


def test_ledger_states_become_drp_statuses_with_the_specs_reasons():
    due = NOW + timedelta(days=45)
    assert drp_status(_row())["status"] == "open"
    running = drp_status(_row(ledger_status="in_progress", due_at=due))
    assert running["status"] == "in_progress" and running["expected_by"] == due.isoformat()
    assert running["agent_request_id"] == "mine"
    assert drp_status(_row(ledger_status="completed"))["status"] == "fulfilled"
    denied = drp_status(_row(ledger_status="rejected", ledger_reason="identity not verified: no mandate"))
    assert (denied["status"], denied["reason"]) == ("denied", "insuf_verification")
    assert drp_status(_row(ledger_status="cancelled", revoked_at=NOW))["status"] == "revoked"
    assert drp_status(_row(ledger_status="awaiting_verification", revoked_at=NOW))["status"] == "revoked"
    merged = drp_status(_row(ledger_status="cancelled", ledger_reason="merged into request x"))
    assert (merged["status"], merged["reason"]) == ("denied", "other")


CONTEXT = StatusContext("https://privacy.example/", {"testco": "P30D"})


def test_a_request_the_person_must_verify_answers_need_user_verification_with_our_url():
    until = NOW + timedelta(days=14)
    waiting = _row(ledger_status="awaiting_verification", user_verification_until=until, tenant="testco")
    seen = drp_status(waiting, CONTEXT)
    assert (seen["status"], seen["reason"]) == ("in_progress", "need_user_verification")
    assert seen["user_verification_url"] == "https://privacy.example/v1/drp/verification/r1"
    assert seen["expires_at"] == until.isoformat()
    # Verified by the person: in progress at once, before the workflow records its next status.
    verified = drp_status({**waiting, "user_verified_at": NOW}, CONTEXT)
    assert verified["status"] == "in_progress" and "reason" not in verified
    assert "user_verification_url" not in verified
    # An agent whose assurance sufficed waits for the operator's mandate check: no URL.
    mandate = drp_status(_row(ledger_status="awaiting_verification"), CONTEXT)
    assert "reason" not in mandate and "user_verification_url" not in mandate
    # Never verified in time: the workflow denied it; the spec's reason for a lapsed verification.
    lapsed = _row(
        ledger_status="rejected", user_verification_until=until,
        ledger_reason="identity not verified: the person did not complete the identity verification by …",
    )  # fmt: skip
    assert (drp_status(lapsed, CONTEXT)["status"], drp_status(lapsed, CONTEXT)["reason"]) == (
        "denied", "insuf_verification",
    )  # fmt: skip


def test_a_fulfilled_request_expires_when_the_ledger_purged_its_results():
    closed = NOW + timedelta(days=3)
    done = _row(ledger_status="completed", tenant="testco", closed_at=closed, has_results=True)
    fulfilled = drp_status(done, CONTEXT)
    assert fulfilled["status"] == "fulfilled"
    assert fulfilled["expires_at"] == (closed + timedelta(days=30)).isoformat()
    assert not final_notice(fulfilled), "the agent is told again when it expires"
    expired = drp_status({**done, "results_purged_at": closed + timedelta(days=30)}, CONTEXT)
    assert expired["status"] == "expired" and final_notice(expired)
    # No results kept (an erasure): fulfilled is the last word, no expires_at.
    erased = drp_status({**done, "has_results": False}, CONTEXT)
    assert erased["status"] == "fulfilled" and "expires_at" not in erased and final_notice(erased)


def test_the_directory_entry_comes_from_configuration_and_trusted_agents_are_checked(tmp_path: Path):
    config = {"id": "BIZ", "tenant": "testco", "name": "Biz", "api_base": "https://biz.example/",
              "supported_actions": ["deletion"]}  # fmt: skip
    entry = business_entry(config)
    assert entry["id"] == "BIZ" and entry["supported_actions"] == ["deletion"] and "tenant" not in entry
    agents = tmp_path / "agents.json"
    assert trust_agents(agents, AGENT) == ["AGENT_A"]
    assert trust_agents(agents, [{**AGENT, "name": "renamed"}]) == ["AGENT_A"]
    directory = Directory(tmp_path / "none.json", agents)
    assert directory.agent("AGENT_A")["name"] == "renamed" and directory.business("BIZ") is None
    for bad in ({"id": "lower", "verify_key": AGENT["verify_key"]}, {"id": "X", "verify_key": "c2hvcnQ="}):
        with pytest.raises(ValueError):
            trust_agents(agents, bad)


def test_callbacks_back_off_exponentially_to_a_cap():
    assert [backoff(n, 1, 10) for n in range(1, 6)] == [1, 2, 4, 8, 10]
