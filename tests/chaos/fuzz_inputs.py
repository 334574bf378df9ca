"""What the fuzz run sends: events generated from the contract's JSON Schemas, and mutated bytes.

Schema-generated events (hypothesis-jsonschema) are valid by the schema's letter but name
unknown tenants, impossible dates, strings with NUL, requests of real tenants with odd
details; mutated bytes are good events bit-flipped, truncated, nested thousands deep, padded
past the size limit, re-encoded, laced with NUL or lone surrogates, or plain noise.
"""

from __future__ import annotations

import json
import random
import uuid
from datetime import UTC, datetime
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis_jsonschema import from_schema

from schemas import CONFIRMATIONS_TOPIC, CONSENT_TOPIC, REQUESTS_TOPIC, schema_for

TENANTS = ("upjunoo", "jump", "jsm", "j2s", "nexio")
INPUT_TOPICS = (REQUESTS_TOPIC, CONSENT_TOPIC, CONFIRMATIONS_TOPIC)


def from_the_schema(topic: str, count: int) -> list[dict[str, Any]]:
    """``count`` values the topic's JSON Schema accepts, drawn by hypothesis-jsonschema
    (derandomized: the same run sends the same values)."""
    drawn: list[dict[str, Any]] = []

    @settings(max_examples=count, database=None, deadline=None, derandomize=True,
              suppress_health_check=list(HealthCheck))  # fmt: skip
    @given(from_schema(schema_for(topic)))
    def draw(value: dict[str, Any]) -> None:
        drawn.append(value)

    draw()
    return drawn[:count]


def aimed_at_real_tenants(
    values: list[dict[str, Any]], topic: str, rng: random.Random
) -> list[dict[str, Any]]:
    """Every other generated value rewritten to name a real tenant, a fresh id and a time in
    ASCII digits, so that it reaches the policy packs and the workflows instead of stopping at
    unknown_tenant (the rest of it stays as generated: odd subjects, details, purposes)."""
    aimed = []
    now = datetime.now(UTC).isoformat()
    for index, value in enumerate(values):
        value = dict(value)
        if index % 2 == 0:
            value["tenant"] = rng.choice(TENANTS)
            for field in ("submitted_at", "occurred_at", "at"):
                if field in value:
                    value[field] = now
        if "request_id" in value and topic == REQUESTS_TOPIC:
            value["request_id"] = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        if "event_id" in value:
            value["event_id"] = f"fuzz-{index}-{rng.getrandbits(32):x}"
        aimed.append(value)
    return aimed


def good_event(topic: str, rng: random.Random) -> dict[str, Any]:
    """A well-formed event of ``topic`` to mutate."""
    now = datetime.now(UTC).isoformat()
    if topic == REQUESTS_TOPIC:
        return {"request_id": str(uuid.UUID(int=rng.getrandbits(128), version=4)), "tenant": "upjunoo",
                "type": "access", "subject": {"email": "fuzz@example.org"}, "jurisdiction": "CI",
                "submitted_at": now, "verification": {"document": "aWQ="}}  # fmt: skip
    if topic == CONSENT_TOPIC:
        return {"event_id": f"fuzz-{rng.getrandbits(32):x}", "tenant": "upjunoo",
                "subject": {"email": "fuzz@example.org"}, "purposes": ["marketing"],
                "action": "withdraw", "occurred_at": now}  # fmt: skip
    return {"request_id": str(uuid.UUID(int=rng.getrandbits(128), version=4)), "system": "marketing_list",
            "outcome": "erased", "at": now}  # fmt: skip


def _flip(raw: bytes, rng: random.Random) -> bytes:
    data = bytearray(raw)
    for _ in range(rng.randint(1, 8)):
        data[rng.randrange(len(data))] ^= 1 << rng.randrange(8)
    return bytes(data)


def _nested(depth: int, closed: bool) -> bytes:
    return b'{"details":' * depth + b"1" + (b"}" * depth if closed else b"")


MUTATIONS: dict[str, Any] = {
    "bit_flips": _flip,
    "truncated": lambda raw, rng: raw[: rng.randrange(len(raw))],
    "nul_escape": lambda raw, rng: raw.replace(b'"aWQ=', b'"a\\u0000', 1).replace(b"fuzz@", b"f\\u0000@", 1),
    "lone_surrogate": lambda raw, rng: raw.replace(b'"fuzz@', b'"\\udc80fuzz@', 1),
    "raw_nul_byte": lambda raw, rng: raw.replace(b"fuzz", b"fu\x00zz", 1),
    "deep_nesting": lambda raw, rng: _nested(rng.randint(33, 20_000), closed=rng.random() < 0.5),
    "deep_array": lambda raw, rng: b"[" * rng.randint(1_000, 100_000) + b"]" * rng.randint(0, 10),
    "huge_value": lambda raw, rng: raw[:-1] + b', "channel": "' + b"x" * 1_100_000 + b'"}',
    "latin1": lambda raw, rng: raw.decode().replace("fuzz", "fùzz").encode("latin-1"),
    "utf16": lambda raw, rng: raw.decode().encode("utf-16"),
    "noise": lambda raw, rng: rng.randbytes(rng.randint(1, 2_000)),
    "empty": lambda raw, rng: b"",
    "wrong_types": lambda raw, rng: rng.choice([b"[]", b"42", b'"text"', b"null", b"true", b"{}"]),
    "nan": lambda raw, rng: raw[:-1] + b', "x": NaN}',
    "duplicated": lambda raw, rng: raw + raw,
}


def mutated(topic: str, count: int, rng: random.Random) -> list[tuple[str, bytes]]:
    """``count`` (mutation name, bytes), cycling through every mutation."""
    names = sorted(MUTATIONS)
    out = []
    for index in range(count):
        name = names[index % len(names)]
        raw = json.dumps(good_event(topic, rng)).encode()
        out.append((name, MUTATIONS[name](raw, rng)))
    return out
