"""Topic names and validation of JSON values against the topic's schema file."""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import cache
from importlib import resources
from typing import Any

import fastjsonschema
from jsonschema import Draft202012Validator

REQUESTS_TOPIC = "privacy.requests.v1"
CONSENT_TOPIC = "privacy.consent.v1"
REQUEST_EVENTS_TOPIC = "privacy.request-events.v1"
CONFIRMATIONS_TOPIC = "privacy.confirmations.v1"
DLQ_TOPIC = "privacy.requests.dlq.v1"
SYSTEM_TASKS_TOPIC = "privacy.system-tasks.v1"

ALL_TOPICS = (
    REQUESTS_TOPIC,
    CONSENT_TOPIC,
    REQUEST_EVENTS_TOPIC,
    CONFIRMATIONS_TOPIC,
    DLQ_TOPIC,
    SYSTEM_TASKS_TOPIC,
)


class ContractViolation(ValueError):
    """A value does not honour its topic's contract. ``reason`` is a DLQ reason code."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


@cache
def schema_for(topic: str) -> dict[str, Any]:
    """The JSON Schema document of ``topic``, loaded from ``schemas/json/<topic>.json``."""
    text = resources.files("schemas").joinpath("json", f"{topic}.json").read_text("utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


# Keywords of JSON Schema 2019-09/2020-12 that the compiled fast path (draft 7) would ignore;
# the contract's schemas must not use them, so both validators mean the same (a unit test checks).
NEWER_KEYWORDS = frozenset(
    {"prefixItems", "$defs", "dependentRequired", "dependentSchemas", "unevaluatedProperties",
     "unevaluatedItems", "$anchor", "$dynamicRef", "$dynamicAnchor", "minContains", "maxContains"}
)  # fmt: skip


@cache
def _validator(topic: str) -> Draft202012Validator:
    schema = schema_for(topic)
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


@cache
def _fast_check(topic: str) -> Callable[[Any], Any]:
    """The same schema compiled to Python (~20x faster): the check every event goes through."""
    return fastjsonschema.compile(schema_for(topic))


def validate(topic: str, value: Any) -> None:
    """Raise ContractViolation('schema_violation') naming the first offending field."""
    try:
        _fast_check(topic)(value)
        return
    except fastjsonschema.JsonSchemaException:
        pass  # invalid: the reference validator says precisely why
    errors = sorted(_validator(topic).iter_errors(value), key=lambda e: list(e.absolute_path))
    if errors:
        first = errors[0]
        where = "/".join(str(p) for p in first.absolute_path) or "(root)"
        more = f" (+{len(errors) - 1} more)" if len(errors) > 1 else ""
        raise ContractViolation("schema_violation", f"{where}: {first.message}{more}")


def decode_and_validate(topic: str, raw: bytes | str) -> dict[str, Any]:
    """Parse raw bytes as a JSON object and validate it; ContractViolation on either failure."""
    try:
        value = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ContractViolation("malformed_json", str(exc)) from exc
    validate(topic, value)
    if not isinstance(value, dict):  # the schemas all require an object; keeps mypy honest
        raise ContractViolation("schema_violation", "(root): not an object")
    return value
