"""Identity resolution: before a request fans out, learn every identifier the tenant's systems
hold for the person, so every system is searched by all of them.

Starting from the identities given, each system the pack marks ``identity_source`` returns the
identifiers linked to the records they find (``Connector.linked_identities``); the new ones are
added and the sources asked again, until a round finds nothing new (at most ``MAX_ROUNDS``).
Which identifiers were given and which were found, and where, is evidence: sealed in the ledger
(AES-GCM, bound to the request id), beside a summary of kinds, counts and sources only.
More than one value of a kind the pack says a person has once (``one_per_person``: a customer
id) means the identities point at different people: the workflow stops for an operator.
"""

from __future__ import annotations

import json
import logging
from collections import defaultdict
from typing import Any

from schemas.identity import normalise_identity
from workers.activities import definitions
from workers.activities.definitions import implements
from workers.activities.requests import raise_connector_error
from workers.connectors.base import ConnectorError
from workers.connectors.registry import ConnectorRegistry
from workers.ledger.identities import IdentityStore
from workers.messages.requests import (
    IdentityResolution,
    IdentityResolutionInput,
    SystemStep,
    SystemTaskInput,
)
from workers.runtime.codec import AesGcmCodec

log = logging.getLogger(__name__)
MAX_ROUNDS = 3  # each round follows identifiers found in the previous one; bounded on purpose


class IdentityActivities:
    def __init__(self, store: IdentityStore, codec: AesGcmCodec, connectors: ConnectorRegistry) -> None:
        self._store = store
        self._codec = codec
        self._connectors = connectors

    @implements(definitions.resolve_identities)
    async def resolve_identities(self, given: IdentityResolutionInput) -> IdentityResolution:
        """Ask the identity sources until nothing new is found; keep the evidence sealed."""
        known = {kind: [normalise_identity(kind, value)] for kind, value in given.subject.items()}
        found: dict[str, dict[str, list[str]]] = defaultdict(dict)  # kind → value → sources
        rounds = 0
        while rounds < MAX_ROUNDS:
            rounds += 1
            new = 0
            for step in given.sources:
                for kind, values in (await self._linked(given, step, known)).items():
                    for value in values:
                        if value in known.setdefault(kind, []):
                            if value in found[kind] and step.system not in found[kind][value]:
                                found[kind][value].append(step.system)
                            continue
                        known[kind].append(value)
                        found[kind][value] = [step.system]
                        new += 1
            if not new:
                break
        linked = {kind: list(values) for kind, values in found.items() if values}
        conflict = _conflict(given.sources, known)
        await self._keep(given, linked, found, rounds, conflict)
        log.info(
            "request %s: identity resolution found %d identifier(s) in %d round(s)%s",
            given.request_id, sum(map(len, linked.values())), rounds, " (conflict)" if conflict else "",
        )  # fmt: skip
        return IdentityResolution(linked=linked, conflict=conflict, rounds=rounds)

    async def _linked(
        self, given: IdentityResolutionInput, step: SystemStep, known: dict[str, list[str]]
    ) -> dict[str, list[str]]:
        """What one source links to the identities known so far, limited to the kinds it provides."""
        provides = set(step.rule.get("provides", []))
        task = SystemTaskInput(
            given.request_id, given.tenant, given.request_type, given.subject, given.submitted_at, step,
            linked={kind: list(values) for kind, values in known.items()},
        )  # fmt: skip
        try:
            held = await self._connectors.for_kind(step.connector["kind"]).linked_identities(task)
        except ConnectorError as exc:
            raise_connector_error(exc)
        return {kind: values for kind, values in held.items() if kind in provides}

    async def _keep(
        self,
        given: IdentityResolutionInput,
        linked: dict[str, list[str]],
        found: dict[str, dict[str, list[str]]],
        rounds: int,
        conflict: str | None,
    ) -> None:
        """The identifiers sealed; beside them only kinds, counts and where they were found."""
        sealed: dict[str, Any] = {
            "given": {kind: normalise_identity(kind, value) for kind, value in given.subject.items()},
            "found": {
                kind: [{"value": value, "sources": systems} for value, systems in values.items()]
                for kind, values in found.items()
            },
        }
        summary: dict[str, Any] = {
            "given": {kind: 1 for kind in sorted(given.subject)},
            "found": {
                kind: {
                    "count": len(linked[kind]),
                    "sources": sorted({system for value in linked[kind] for system in found[kind][value]}),
                }
                for kind in sorted(linked)
            },
            "sources": [step.system for step in given.sources],
            "rounds": rounds,
            "conflict": conflict,
        }
        key_id, blob = self._codec.seal(json.dumps(sealed).encode(), given.request_id)
        await self._store.keep(given.request_id, summary, key_id, blob)


def _conflict(sources: list[SystemStep], known: dict[str, list[str]]) -> str | None:
    """Why the identifiers point at more than one person: a kind each person has once, found twice."""
    unique = sorted({k for step in sources for k in step.rule.get("one_per_person", [])})
    for kind in unique:
        count = len(known.get(kind, []))
        if count > 1:
            return f"identity resolution found {count} different {kind} values for the identities given"
    return None
