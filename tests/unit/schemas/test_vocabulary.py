"""The one vocabulary and the contract's JSON Schemas say the same words."""

from __future__ import annotations

from schemas import schema_for
from schemas.identity import normalise_identity, same_identity, subject_refs
from schemas.vocabulary import (
    ACTIONS,
    FINAL_OUTCOMES,
    FLAGS,
    OUTCOMES,
    REQUEST_TYPE_NAMES,
    STATUSES,
    done_outcome,
    partner_outcome,
)


def _enum(topic: str, field: str) -> list[str]:
    prop = schema_for(topic)["properties"][field]
    return list(prop.get("enum") or prop["items"]["enum"])


def test_request_types_statuses_outcomes_and_flags_are_the_contracts():
    assert list(REQUEST_TYPE_NAMES) == _enum("privacy.requests.v1", "type")
    assert list(STATUSES) == _enum("privacy.request-events.v1", "status")
    assert list(OUTCOMES) == _enum("privacy.request-events.v1", "outcome")
    assert set(_enum("privacy.confirmations.v1", "outcome")) == set(OUTCOMES) - {"pending"}
    assert list(FLAGS) == _enum("privacy.request-events.v1", "flags")


def test_pending_and_failed_are_never_final():
    assert "pending" not in FINAL_OUTCOMES and "failed" not in FINAL_OUTCOMES
    assert all(outcome in FINAL_OUTCOMES for outcome in ACTIONS.values())


def test_an_action_done_reads_as_the_request_type_asks():
    assert done_outcome("erase", "erasure") == "erased"
    assert done_outcome("stop_processing", "consent_withdrawal") == "consent_withdrawn"
    assert done_outcome("stop_processing", "objection") == "processing_stopped"


def test_a_partner_status_means_the_same_to_every_reader():
    assert partner_outcome("completed", "erase", "erasure") == "erased"
    assert partner_outcome("completed", "notify", "rectification") == "rectified"
    assert partner_outcome("cancelled", "erase", "erasure") == "refused"
    assert partner_outcome("in_progress", "erase", "erasure") is None


def test_identities_compare_in_one_normalised_form():
    assert normalise_identity("email", "  Ada@Example.ORG ") == "ada@example.org"
    assert normalise_identity("phone", "+225 07-00 00 00 01") == "+2250700000001"
    assert same_identity("email", "ADA@example.org", "ada@example.org")
    assert not same_identity("customer_id", "c-1", "C-1")
    key = b"k" * 32
    assert subject_refs(key, "t", {"email": "Ada@Example.org"}) == subject_refs(
        key, "t", {"email": "ada@example.org"}
    )
