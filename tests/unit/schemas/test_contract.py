"""The contract's JSON Schemas accept good events and name what is wrong with bad ones."""

import json

import pytest

from schemas import REQUESTS_TOPIC, ContractViolation, decode_and_validate, schema_for
from schemas.contract import ALL_TOPICS, MAX_EVENT_BYTES
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


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b"{not json", "malformed_json"),
        (b"\xff\xfe{}", "not_utf8"),
        ("{}".encode("utf-16"), "not_utf8"),  # json.loads would guess UTF-16; the contract is UTF-8
        (b"", "empty_event"),
        (b"[" * 100_000 + b"]" * 100_000, "too_deep"),  # json.loads itself would hit RecursionError
        (b'{"a":' * 40 + b"1" + b"}" * 40, "too_deep"),  # parses, but deeper than the contract allows
        (b'{"a": NaN}', "non_finite_number"),
        (b'{"a": 1e999}', "non_finite_number"),
        (b'{"a": ' + b"9" * 5000 + b"}", "malformed_json"),  # longer than Python converts
        (b" " * (MAX_EVENT_BYTES + 1), "too_large"),
    ],
)
def test_bytes_no_schema_can_judge_are_refused_at_the_door_with_their_reason(raw, reason):
    with pytest.raises(ContractViolation) as caught:
        decode_and_validate(REQUESTS_TOPIC, raw)
    assert caught.value.reason == reason


@pytest.mark.parametrize("text", ["id\u0000card", "\ud800", "ok \udfff"])
def test_text_postgresql_cannot_store_is_refused_wherever_it_hides(text):
    """NUL and lone surrogates are valid JSON escapes but PostgreSQL text/jsonb refuse them:
    one in ``verification.document`` used to wedge an intake actor in endless retries."""
    value = json.dumps({**GOOD, "verification": {"document": text}})
    for raw in (value, json.dumps({**GOOD, "details": {text: 1}})):
        with pytest.raises(ContractViolation) as caught:
            decode_and_validate(REQUESTS_TOPIC, raw.encode())
        assert caught.value.reason == "forbidden_character"


def test_free_form_fields_have_size_limits():
    for field, value in (
        ("details", {f"k{i}": i for i in range(65)}),
        ("verification", {"document": "A" * 700_001}),
        ("subject", {f"id{i}": "x" for i in range(17)}),
    ):
        with pytest.raises(ContractViolation, match=field):
            decode_and_validate(REQUESTS_TOPIC, json.dumps({**GOOD, field: value}).encode())


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
