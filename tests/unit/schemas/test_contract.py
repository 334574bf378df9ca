"""The contract's JSON Schemas accept good events and name what is wrong with bad ones."""

import json

import pytest

from schemas import REQUESTS_TOPIC, ContractViolation, decode_and_validate, schema_for
from schemas.contract import ALL_TOPICS
from schemas.models import RightsRequest

GOOD = {
    "request_id": "6f1c2d3e-4b5a-4c7d-8e9f-0a1b2c3d4e5f",
    "tenant": "upjunoo",
    "type": "erasure",
    "subject": {"email": "ada@example.org", "phone": "+2250700000001"},
    "jurisdiction": "CI",
    "submitted_at": "2026-11-02T10:00:00Z",
}


def test_every_topic_has_a_valid_schema_file():
    for topic in ALL_TOPICS:
        assert schema_for(topic)["$id"] == topic


def test_a_good_request_is_accepted_and_typed():
    request = RightsRequest.from_event(decode_and_validate(REQUESTS_TOPIC, json.dumps(GOOD).encode()))
    assert request.type == "erasure"
    assert request.submitted_at.utcoffset().total_seconds() == 0


@pytest.mark.parametrize(
    ("change", "where"),
    [
        ({"type": "forget-me"}, "type"),
        ({"request_id": "not-a-uuid"}, "request_id"),
        ({"subject": {}}, "subject"),
        ({"jurisdiction": "Ivory Coast"}, "jurisdiction"),
        ({"submitted_at": "yesterday"}, "submitted_at"),
        ({"colour": "blue"}, "(root)"),
    ],
)
def test_a_schema_violation_names_the_field(change, where):
    with pytest.raises(ContractViolation) as caught:
        decode_and_validate(REQUESTS_TOPIC, json.dumps({**GOOD, **change}).encode())
    assert caught.value.reason == "schema_violation"
    assert caught.value.detail.startswith(where)


def test_a_missing_required_field_is_a_violation():
    value = {k: v for k, v in GOOD.items() if k != "tenant"}
    with pytest.raises(ContractViolation, match="tenant"):
        decode_and_validate(REQUESTS_TOPIC, json.dumps(value).encode())


@pytest.mark.parametrize("raw", [b"{not json", b"\xff\xfe", b""])
def test_malformed_bytes_are_malformed_json(raw):
    with pytest.raises(ContractViolation) as caught:
        decode_and_validate(REQUESTS_TOPIC, raw)
    assert caught.value.reason == "malformed_json"


def test_a_json_array_is_a_schema_violation():
    with pytest.raises(ContractViolation) as caught:
        decode_and_validate(REQUESTS_TOPIC, b"[1, 2]")
    assert caught.value.reason == "schema_violation"


def test_a_pattern_valid_but_impossible_date_is_a_schema_violation():
    raw = json.dumps({**GOOD, "submitted_at": "2026-13-45T10:00:00Z"}).encode()
    value = decode_and_validate(REQUESTS_TOPIC, raw)  # the pattern alone cannot tell
    with pytest.raises(ContractViolation) as caught:
        RightsRequest.from_event(value)
    assert caught.value.reason == "schema_violation"
    assert caught.value.detail.startswith("submitted_at")
