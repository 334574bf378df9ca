"""Identity resolution follows identifiers from source to source until nothing new is found,
bounded; keeps given and found identifiers sealed and only kinds, counts and sources in clear;
and calls two customer ids a conflict for an operator."""

from __future__ import annotations

import json
import os
from typing import Any

from workers.activities.identities import MAX_ROUNDS, IdentityActivities
from workers.messages.requests import IdentityResolutionInput, SystemStep, SystemTaskInput
from workers.runtime.codec import AesGcmCodec

# Who holds what: e-mail → customer id (crm); customer id → phone (loyalty); phone → advertising id.
LINKS = {
    ("email", "bruno@example.org"): {"customer_id": ["C-BRU-002"]},
    ("customer_id", "C-BRU-002"): {"phone": ["+2430810000002"]},
    ("phone", "+2430810000002"): {"advertising_id": ["ad-1"]},
}


class LinkingConnector:
    def __init__(self, extra: dict[str, list[str]] | None = None) -> None:
        self.asked: list[dict[str, list[str]]] = []
        self._extra = extra or {}

    async def linked_identities(self, task: SystemTaskInput) -> dict[str, list[str]]:
        known = task.identities()
        self.asked.append(known)
        found: dict[str, list[str]] = {kind: list(values) for kind, values in self._extra.items()}
        for kind, values in known.items():
            for value in values:
                for linked_kind, linked in LINKS.get((kind, value), {}).items():
                    found.setdefault(linked_kind, []).extend(linked)
        return found


class Registry:
    def __init__(self, connector: LinkingConnector) -> None:
        self.connector = connector

    def for_kind(self, kind: str) -> LinkingConnector:
        return self.connector


class Store:
    def __init__(self) -> None:
        self.kept: dict[str, Any] = {}

    async def keep(self, request_id: str, summary: dict[str, Any], key_id: str, sealed: bytes) -> None:
        self.kept = {"summary": summary, "key_id": key_id, "sealed": sealed}


CODEC = AesGcmCodec({"k1": os.urandom(32)}, "k1")


def _source(name: str, provides: list[str]) -> SystemStep:
    rule = {"action": "link_identities", "provides": provides, "one_per_person": ["customer_id"]}
    return SystemStep(name, "link_identities", {"kind": "sql"}, rule)


def _input(sources: list[SystemStep]) -> IdentityResolutionInput:
    return IdentityResolutionInput(
        "req-1", "t", "erasure", {"email": "Bruno@example.org"}, "2026-01-01T00:00:00+00:00", sources
    )


async def test_identifiers_are_followed_round_after_round_and_kept_sealed() -> None:
    store, connector = Store(), LinkingConnector()
    activities = IdentityActivities(store, CODEC, Registry(connector))  # type: ignore[arg-type]

    resolution = await activities.resolve_identities(
        _input([_source("crm", ["customer_id", "phone", "advertising_id"])])
    )

    assert resolution.linked == {
        "customer_id": ["C-BRU-002"],
        "phone": ["+2430810000002"],
        "advertising_id": ["ad-1"],
    }
    assert resolution.conflict is None
    assert resolution.rounds == MAX_ROUNDS
    summary = store.kept["summary"]
    assert summary["given"] == {"email": 1}
    assert summary["found"]["phone"] == {"count": 1, "sources": ["crm"]}
    assert "bruno" not in json.dumps(summary).lower() and "C-BRU" not in json.dumps(summary)
    assert b"C-BRU-002" not in store.kept["sealed"]
    opened = json.loads(CODEC.unseal(store.kept["key_id"], store.kept["sealed"], "req-1"))
    assert opened["given"] == {"email": "bruno@example.org"}
    assert {"value": "C-BRU-002", "sources": ["crm"]} in opened["found"]["customer_id"]


async def test_a_source_only_gives_the_kinds_it_provides_and_resolution_stops_when_nothing_is_new() -> None:
    store, connector = Store(), LinkingConnector()
    activities = IdentityActivities(store, CODEC, Registry(connector))  # type: ignore[arg-type]

    resolution = await activities.resolve_identities(_input([_source("crm", ["customer_id"])]))

    assert resolution.linked == {"customer_id": ["C-BRU-002"]}
    assert resolution.rounds == 2, "the second round found nothing new"


async def test_two_customer_ids_for_the_identities_given_is_a_conflict_for_an_operator() -> None:
    store = Store()
    connector = LinkingConnector(extra={"customer_id": ["C-OTHER-9"]})
    activities = IdentityActivities(store, CODEC, Registry(connector))  # type: ignore[arg-type]

    resolution = await activities.resolve_identities(_input([_source("crm", ["customer_id"])]))

    assert (
        resolution.conflict
        == "identity resolution found 2 different customer_id values for the identities given"
    )
    assert store.kept["summary"]["conflict"] == resolution.conflict
