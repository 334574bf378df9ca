"""The AsyncAPI 3 document of the topics: well formed, complete, and pointing at the contract's schemas.

No PyPI package ships AsyncAPI 3.0's own JSON Schema, so the structure is checked here against the
3.0 specification's object definitions (fixed fields, required ones, reference targets) — by a JSON
Schema written from them — and every reference is resolved.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

import schemas
from schemas.contract import ALL_TOPICS

HERE = Path(schemas.__file__).parent
DOCUMENT = json.loads((HERE / "asyncapi.json").read_text())
EXTENSIONS = {"^x-": {}}


def _fixed(required: list[str], **fields: Any) -> dict[str, Any]:
    """An AsyncAPI object: only its fixed fields (and x- extensions), the required ones present."""
    return {"type": "object", "required": required, "properties": fields,
            "patternProperties": EXTENSIONS, "additionalProperties": False}  # fmt: skip


TEXT = {"type": "string"}
ANY = {}
REF = _fixed(["$ref"], **{"$ref": {"type": "string", "pattern": "^#/"}})
SERVER = _fixed(["host", "protocol"], **{k: ANY for k in (
    "host", "protocol", "protocolVersion", "pathname", "description", "title", "summary", "variables",
    "security", "tags", "externalDocs", "bindings")})  # fmt: skip
CHANNEL = _fixed([], **{**{k: ANY for k in (
    "title", "summary", "description", "servers", "parameters", "tags", "externalDocs", "bindings")},
    "address": {"type": ["string", "null"]},
    "messages": {"type": "object", "additionalProperties": REF}})  # fmt: skip
OPERATION = _fixed(["action", "channel"], **{**{k: ANY for k in (
    "title", "summary", "description", "security", "tags", "externalDocs", "bindings", "traits", "reply")},
    "action": {"enum": ["send", "receive"]}, "channel": REF,
    "messages": {"type": "array", "items": REF}})  # fmt: skip
MULTI_FORMAT = _fixed(["schema"], schemaFormat=TEXT, schema={"type": "object"})
MESSAGE = _fixed([], **{**{k: ANY for k in (
    "headers", "correlationId", "contentType", "name", "title", "summary", "description", "tags",
    "externalDocs", "bindings", "examples", "traits")}, "payload": MULTI_FORMAT})  # fmt: skip
ASYNCAPI_3 = _fixed(
    ["asyncapi", "info"],
    asyncapi={"const": "3.0.0"},
    id={"type": "string", "format": "uri"},
    info=_fixed(["title", "version"], title=TEXT, version=TEXT, description=TEXT),
    servers={"type": "object", "additionalProperties": SERVER},
    defaultContentType=TEXT,
    channels={"type": "object", "additionalProperties": CHANNEL},
    operations={"type": "object", "additionalProperties": OPERATION},
    components={
        "type": "object",
        "properties": {"messages": {"type": "object", "additionalProperties": MESSAGE}},
    },
)


def _resolve(pointer: str) -> Any:
    node: Any = DOCUMENT
    for part in pointer.removeprefix("#/").split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


def _refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        return ([node["$ref"]] if "$ref" in node else []) + [r for v in node.values() for r in _refs(v)]
    if isinstance(node, list):
        return [r for v in node for r in _refs(v)]
    return []


def test_the_document_has_the_structure_of_asyncapi_3():
    errors = sorted(Draft202012Validator(ASYNCAPI_3).iter_errors(DOCUMENT), key=str)
    assert not errors, [f"{list(e.absolute_path)}: {e.message}" for e in errors]
    assert all(s["protocol"] == "kafka" for s in DOCUMENT["servers"].values())


def test_every_reference_resolves_and_operations_send_only_their_channels_messages():
    for ref in _refs(DOCUMENT):
        if ref.startswith("#/"):
            _resolve(ref)
        else:
            assert (HERE / ref).is_file(), ref
    for name, operation in DOCUMENT["operations"].items():
        channel = operation["channel"]["$ref"]
        for message in operation["messages"]:
            assert message["$ref"].startswith(channel + "/messages/"), name


def test_every_topic_of_the_contract_is_a_channel_whose_payload_is_its_json_schema():
    by_address = {c["address"]: c for c in DOCUMENT["channels"].values()}
    assert set(by_address) == set(ALL_TOPICS)
    for address, channel in by_address.items():
        [message_ref] = [m["$ref"] for m in channel["messages"].values()]
        payload = _resolve(message_ref)["payload"]
        assert payload["schemaFormat"] == "application/schema+json;version=draft-2020-12"
        target = json.loads((HERE / payload["schema"]["$ref"]).read_text())
        assert target["$id"] == address, "the payload is the topic's own contract schema"
        Draft202012Validator.check_schema(target)
    actions = {(o["channel"]["$ref"], o["action"]) for o in DOCUMENT["operations"].values()}
    assert ("#/channels/requests", "receive") in actions and ("#/channels/dlq", "send") in actions


@pytest.mark.parametrize(
    ("valid", "value"),
    [
        (True, {"request_id": str(uuid.uuid4()), "tenant": "upjunoo", "type": "erasure",
                "subject": {"email": "ada@example.org"}, "jurisdiction": "CI",
                "submitted_at": "2026-11-23T10:00:00Z"}),
        (False, {"request_id": "not-a-uuid", "tenant": "upjunoo"}),
    ],
)  # fmt: skip
def test_a_tool_reading_the_document_validates_events_with_the_contract(valid, value):
    payload = _resolve(DOCUMENT["channels"]["requests"]["messages"]["rightsRequest"]["$ref"])["payload"]
    schema = json.loads((HERE / payload["schema"]["$ref"]).read_text())
    assert Draft202012Validator(schema).is_valid(value) is valid
