"""Topic names and validation of JSON values against the topic's schema file."""

from __future__ import annotations

import json
import math
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


# What the door lets in, whatever the schema says: Kafka's default message.max.bytes, and a
# nesting no event of the contract needs (deeper values crash recursive code: json, jsonschema).
MAX_EVENT_BYTES = 1_048_576
MAX_DEPTH = 32


def decode_event(raw: bytes | str) -> Any:
    """Parse an event's bytes into a JSON value PostgreSQL and our code can hold; else raise
    ContractViolation: empty_event, too_large, not_utf8, malformed_json, too_deep,
    forbidden_character (NUL, lone surrogates) or non_finite_number."""
    if not raw:
        raise ContractViolation("empty_event", "the event has no value")
    if len(raw) > MAX_EVENT_BYTES:
        raise ContractViolation("too_large", f"{len(raw)} bytes; at most {MAX_EVENT_BYTES}")
    if isinstance(raw, bytes | bytearray):
        try:
            raw = bytes(raw).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ContractViolation("not_utf8", f"byte {exc.start} is not UTF-8") from None
    try:
        value = json.loads(raw, parse_constant=_refuse_constant)
    except RecursionError:
        raise ContractViolation("too_deep", f"nested deeper than {MAX_DEPTH} levels") from None
    except ContractViolation:
        raise
    except ValueError as exc:  # JSONDecodeError, and integers too long to convert
        raise ContractViolation("malformed_json", str(exc)[:200]) from None
    check_contents(value)
    return value


def _refuse_constant(name: str) -> Any:
    raise ContractViolation("non_finite_number", f"{name} is not a JSON number")


def check_contents(value: Any) -> None:
    """Refuse what JSON allows but PostgreSQL's text and jsonb do not (NUL, lone surrogates,
    infinite numbers), and nesting deeper than MAX_DEPTH; iterative, so depth cannot crash it."""
    pending: list[tuple[Any, int]] = [(value, 1)]
    while pending:
        item, depth = pending.pop()
        if depth > MAX_DEPTH:
            raise ContractViolation("too_deep", f"nested deeper than {MAX_DEPTH} levels")
        if isinstance(item, str):
            _check_text(item)
        elif isinstance(item, dict):
            for key, inner in item.items():
                _check_text(key)
                pending.append((inner, depth + 1))
        elif isinstance(item, list):
            pending.extend((inner, depth + 1) for inner in item)
        elif isinstance(item, float) and not math.isfinite(item):
            raise ContractViolation("non_finite_number", "a number overflows a double")


def _check_text(text: str) -> None:
    if "\x00" in text:
        raise ContractViolation("forbidden_character", "a string holds a NUL character (U+0000)")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise ContractViolation("forbidden_character", "a string holds a lone surrogate") from None


def decode_and_validate(topic: str, raw: bytes | str) -> dict[str, Any]:
    """Decode an event at the door (``decode_event``) and validate it against its topic's
    schema; ContractViolation with the reason on any failure."""
    value = decode_event(raw)
    validate(topic, value)
    if not isinstance(value, dict):  # the schemas all require an object; keeps mypy honest
        raise ContractViolation("schema_violation", "(root): not an object")
    return value
