"""The compiled fast check and the reference validator mean the same for every contract schema."""

from __future__ import annotations

import json
from typing import Any

import fastjsonschema
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from schemas.contract import ALL_TOPICS, NEWER_KEYWORDS, _fast_check, _validator, schema_for


def _keywords(node: Any) -> set[str]:
    if isinstance(node, dict):
        return set(node) | {k for v in node.values() for k in _keywords(v)}
    if isinstance(node, list):
        return {k for v in node for k in _keywords(v)}
    return set()


@pytest.mark.parametrize("topic", ALL_TOPICS)
def test_no_schema_uses_keywords_the_fast_path_would_ignore(topic: str):
    assert not (_keywords(schema_for(topic)) & NEWER_KEYWORDS)


CONSENT = {
    "event_id": "e-1",
    "tenant": "upjunoo",
    "subject": {"email": "ada@example.org"},
    "purposes": ["marketing"],
    "action": "withdraw",
    "occurred_at": "2026-11-23T10:00:00+00:00",
}
VALUES = st.one_of(
    st.none(), st.booleans(), st.integers(), st.text(max_size=8), st.lists(st.text(max_size=4))
)


@settings(max_examples=300, deadline=None)
@given(field=st.sampled_from([*CONSENT, "extra"]), value=VALUES, drop=st.booleans())
def test_both_validators_agree_on_mutated_consent_events(field: str, value: Any, drop: bool):
    event = dict(CONSENT)
    if drop:
        event.pop(field, None)
    else:
        event[field] = value
    reference = _validator("privacy.consent.v1").is_valid(event)
    try:
        _fast_check("privacy.consent.v1")(json.loads(json.dumps(event)))
        fast = True
    except fastjsonschema.JsonSchemaException:
        fast = False
    assert fast == reference, event
