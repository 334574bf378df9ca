"""Temporal activities of consent batches: keep the changes, have each system act, keep the evidence.

The changes (with identities) come from the ledger, where the intake sealed them before the
workflow started; the workflow passes only ids and indexes. Each activity may run more than
once: changes and evidence are keyed by event id (and system), an asynchronous tool's batch
task by (batch, system), and stopping processing for a subject already stopped changes nothing.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from datetime import UTC, datetime
from typing import Any

from temporalio import activity
from temporalio.exceptions import ApplicationError

from schemas import REQUEST_EVENTS_TOPIC
from workers.codec import AesGcmCodec
from workers.connectors.base import ConnectorError
from workers.connectors.kafka_confirm import send_task
from workers.connectors.registry import ConnectorRegistry
from workers.connectors.sql import SqlConnector
from workers.consent_messages import (
    ConsentBatch,
    ConsentEntry,
    ConsentSystemBatch,
    ConsentSystemOutcome,
    entries_from_json,
)
from workers.consent_store import ConsentStore
from workers.events import EventPublisher
from workers.messages import SystemTaskInput

log = logging.getLogger(__name__)
PER_SUBJECT_CONCURRENCY = 16
CACHED_BATCHES = 16  # the systems of one batch run together: read and decrypt its changes once


def _now() -> str:
    return datetime.now(UTC).isoformat()


def _config_error(exc: ConnectorError) -> Exception:
    if exc.retryable:
        return exc
    return ApplicationError(str(exc), type="ConnectorConfigError", non_retryable=True)


class ConsentActivities:
    def __init__(
        self,
        store: ConsentStore,
        codec: AesGcmCodec,
        publisher: EventPublisher,
        connectors: ConnectorRegistry,
    ) -> None:
        self._store = store
        self._codec = codec
        self._publisher = publisher
        self._connectors = connectors
        self._cache: OrderedDict[str, list[ConsentEntry]] = OrderedDict()

    async def _entries(self, batch_id: str) -> list[ConsentEntry]:
        if batch_id in self._cache:
            self._cache.move_to_end(batch_id)
            return self._cache[batch_id]
        sealed = await self._store.sealed_batch(batch_id)
        if sealed is None:
            raise ApplicationError(
                f"consent batch {batch_id} has no changes in the ledger", non_retryable=True
            )
        entries = entries_from_json(self._codec.unseal(sealed[0], sealed[1], batch_id))
        self._cache[batch_id] = entries
        while len(self._cache) > CACHED_BATCHES:
            self._cache.popitem(last=False)
        return entries

    @activity.defn(name="record_consent_batch")
    async def record_consent_batch(self, batch: ConsentBatch) -> None:
        await self._store.record_changes(batch.tenant, batch.batch_id, await self._entries(batch.batch_id))

    @activity.defn(name="apply_consent_batch")
    async def apply_consent_batch(self, work: ConsentSystemBatch) -> ConsentSystemOutcome:
        kind = work.step.connector.get("kind")
        entries = await self._entries(work.batch_id)
        mine = [entries[i] for i in work.entry_indexes]
        if kind == "kafka_confirm":
            return await self._send_batch_task(work, mine)
        if kind not in ("sql", "files"):
            raise ApplicationError(
                f"system {work.step.system}: a {kind} connector takes consent withdrawals one request at a "
                "time (privacy.requests.v1), not in batches",
                type="ConnectorConfigError",
                non_retryable=True,
            )
        connector = self._connectors.for_kind(kind)
        try:
            if isinstance(connector, SqlConnector) and work.step.action == "stop_processing":
                # The whole batch in one statement per table, not one round trip per subject.
                found = await connector.stop_processing_many(work.step, [e.subject for e in mine])
                outcomes = ["consent_withdrawn" if hit else "not_found" for hit in found]
            else:
                outcomes = await self._one_by_one(connector, work, mine)
        except ConnectorError as exc:
            raise _config_error(exc) from exc
        counts = {o: outcomes.count(o) for o in sorted(set(outcomes))}
        return ConsentSystemOutcome(
            work.batch_id, work.tenant, work.step.system, "consent_withdrawn", _now(), work.entry_indexes,
            evidence={"subjects": len(outcomes), "outcomes": counts,
                      "purposes": work.step.rule.get("purposes", [])},
            per_entry=outcomes,
        )  # fmt: skip

    async def _one_by_one(
        self, connector: Any, work: ConsentSystemBatch, mine: list[ConsentEntry]
    ) -> list[str]:
        limit = asyncio.Semaphore(PER_SUBJECT_CONCURRENCY)

        async def stop(entry: ConsentEntry) -> str:
            task = SystemTaskInput(
                work.batch_id, work.tenant, "consent_withdrawal", entry.subject, entry.occurred_at,
                work.step, {"purposes": entry.purposes},
            )  # fmt: skip
            async with limit:
                return str((await connector.perform(task)).outcome)

        return list(await asyncio.gather(*(stop(entry) for entry in mine)))

    async def _send_batch_task(
        self, work: ConsentSystemBatch, mine: list[ConsentEntry]
    ) -> ConsentSystemOutcome:
        """One task for the whole batch; the tool confirms it on privacy.confirmations.v1."""
        purposes = sorted({p for entry in mine for p in entry.purposes})
        topic = await send_task(
            self._publisher, work.step, task_id=f"consent-batch/{work.batch_id}/{work.step.system}",
            request_id=work.batch_id, tenant=work.tenant,
            details={"request_type": "consent_withdrawal", "purposes": purposes},
            subjects=[entry.subject for entry in mine],
        )  # fmt: skip
        return ConsentSystemOutcome(
            work.batch_id, work.tenant, work.step.system, "pending", _now(), work.entry_indexes,
            evidence={"task_topic": topic, "subjects": len(mine)},
        )  # fmt: skip

    @activity.defn(name="record_consent_outcome")
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
        await self._publisher.publish(
            REQUEST_EVENTS_TOPIC,
            key=outcome.batch_id,
            value={
                "event_id": f"{outcome.batch_id}:consent:{outcome.system}",
                "request_id": outcome.batch_id,
                "tenant": outcome.tenant,
                "type": "consent_withdrawal",
                "kind": "consent_batch",
                "system": outcome.system,
                "outcome": outcome.outcome,
                "subjects": len(event_ids),
                "at": _now(),
            },
        )
        log.info(
            "consent batch %s: %s %s for %d subject(s)", outcome.batch_id, outcome.system, outcome.outcome,
            len(event_ids),
        )  # fmt: skip
        return kept
