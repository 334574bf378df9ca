"""Temporal activities of consent batches: keep the changes, have each system act, keep the evidence.

The changes (with identities) come from the ledger, where the intake sealed them before the
workflow started; the workflow passes only ids and indexes. Each activity may run more than
once: changes and evidence are keyed by event id (and system), an asynchronous tool's batch
task by (batch, system), and stopping processing for a subject already stopped changes nothing.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections import OrderedDict

from temporalio.exceptions import ApplicationError

from workers.activities import definitions
from workers.activities.definitions import implements
from workers.activities.evidence import Evidence, now
from workers.activities.requests import raise_connector_error
from workers.connectors.base import BatchSubject, ConnectorError
from workers.connectors.registry import ConnectorRegistry
from workers.ledger.consent import ConsentStore
from workers.messages.consent import (
    ConsentBatch,
    ConsentEntry,
    ConsentSystemBatch,
    ConsentSystemOutcome,
    entries_from_json,
)
from workers.runtime.codec import AesGcmCodec

log = logging.getLogger(__name__)
CACHED_BATCHES = 16  # the systems of one batch run together: read and decrypt its changes once


class ConsentActivities:
    def __init__(
        self,
        store: ConsentStore,
        codec: AesGcmCodec,
        evidence: Evidence,
        connectors: ConnectorRegistry,
    ) -> None:
        self._store = store
        self._codec = codec
        self._evidence = evidence
        self._connectors = connectors
        self._cache: OrderedDict[str, asyncio.Future[list[ConsentEntry]]] = OrderedDict()

    async def _entries(self, batch_id: str) -> list[ConsentEntry]:
        """The batch's changes, read and decrypted once: the systems of a batch act at the same
        time, so the first caller's read is shared by the others (not done once each)."""
        if batch_id not in self._cache:
            self._cache[batch_id] = asyncio.ensure_future(self._read(batch_id))
            while len(self._cache) > CACHED_BATCHES:
                self._cache.popitem(last=False)
        self._cache.move_to_end(batch_id)
        reading = self._cache[batch_id]
        try:
            return await asyncio.shield(reading)
        except BaseException:
            if reading.done() and self._cache.get(batch_id) is reading:
                del self._cache[batch_id]  # a failed read is not kept: the retry reads again
            raise

    async def _read(self, batch_id: str) -> list[ConsentEntry]:
        sealed = await self._store.sealed_batch(batch_id)
        if sealed is None:
            raise ApplicationError(
                f"consent batch {batch_id} has no changes in the ledger", non_retryable=True
            )
        return entries_from_json(self._codec.unseal(sealed[0], sealed[1], batch_id))

    @implements(definitions.record_consent_batch)
    async def record_consent_batch(self, batch: ConsentBatch) -> None:
        await self._store.record_changes(batch.tenant, batch.batch_id, await self._entries(batch.batch_id))

    @implements(definitions.apply_consent_batch)
    async def apply_consent_batch(self, work: ConsentSystemBatch) -> ConsentSystemOutcome:
        """The system acts on the batch as its connector can: one statement per table, one task
        for an asynchronous tool, or one subject at a time (batches started before
        act_on_consent_batch: their evidence is recorded by a separate activity)."""
        return await self._act(work)

    @implements(definitions.act_on_consent_batch)
    async def act_on_consent_batch(self, work: ConsentSystemBatch) -> ConsentSystemOutcome:
        """The system acts on the batch, and a final answer's per-subject evidence is kept at
        once: one activity instead of two, and the per-subject outcomes never travel through
        Temporal. Run again after a crash, the system acts again (stopping what is stopped
        changes nothing) and the evidence already kept stays as it is."""
        outcome = await self._act(work)
        if outcome.outcome == "pending":
            return outcome
        await self.record_consent_outcome(outcome)
        return dataclasses.replace(outcome, entry_indexes=[], per_entry=[], recorded=True)

    async def _act(self, work: ConsentSystemBatch) -> ConsentSystemOutcome:
        entries = await self._entries(work.batch_id)
        mine = [entries[i] for i in work.entry_indexes]
        subjects = [BatchSubject(e.subject, e.occurred_at, list(e.purposes), e.due_at) for e in mine]
        connector = self._connectors.for_kind(work.step.connector["kind"])
        try:
            done = await connector.act_on_batch(work.step, work.batch_id, work.tenant, subjects)
        except ConnectorError as exc:
            raise_connector_error(exc)
        evidence = dict(done.evidence)
        if done.per_subject:
            outcomes = done.per_subject
            evidence.update(
                subjects=len(outcomes),
                outcomes={o: outcomes.count(o) for o in sorted(set(outcomes))},
                purposes=work.step.rule.get("purposes", []),
            )
        return ConsentSystemOutcome(
            work.batch_id, work.tenant, work.step.system, done.outcome, now(), work.entry_indexes,
            evidence=evidence, per_entry=done.per_subject,
        )  # fmt: skip

    @implements(definitions.record_consent_outcome)
    async def record_consent_outcome(self, outcome: ConsentSystemOutcome) -> int:
        """Per-subject evidence, then one event for the batch (counts only, no personal data)."""
        entries = await self._entries(outcome.batch_id)
        event_ids = [entries[i].event_id for i in outcome.entry_indexes]
        per_event = dict(zip(event_ids, outcome.per_entry, strict=True)) if outcome.per_entry else {}
        kept = await self._store.record_outcome(
            outcome.batch_id,
            outcome.system,
            outcome.outcome,
            outcome.at,
            event_ids,
            outcome.evidence,
            per_event,
        )
        await self._evidence.event(
            outcome.batch_id, outcome.tenant, "consent_withdrawal", "consent_batch",
            f"consent:{outcome.system}", system=outcome.system, outcome=outcome.outcome,
            subjects=len(event_ids),
        )  # fmt: skip
        log.info(
            "consent batch %s: %s %s for %d subject(s)", outcome.batch_id, outcome.system, outcome.outcome,
            len(event_ids),
        )  # fmt: skip
        return kept
