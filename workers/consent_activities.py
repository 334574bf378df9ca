"""Temporal activities of consent batches: keep the changes, have each system act, keep the evidence.

Each may run more than once: the changes and the evidence are keyed by event id (and system),
the batch task an asynchronous tool gets is keyed by (batch, system), and stopping processing
for a subject already stopped changes nothing.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime
from typing import Any

from temporalio import activity
from temporalio.exceptions import ApplicationError

from schemas import CONFIRMATIONS_TOPIC, REQUEST_EVENTS_TOPIC, SYSTEM_TASKS_TOPIC
from workers.connectors.base import ConnectorError
from workers.connectors.registry import ConnectorRegistry
from workers.consent_messages import ConsentBatch, ConsentSystemBatch, ConsentSystemOutcome
from workers.consent_store import ConsentStore
from workers.events import EventPublisher
from workers.messages import SystemTaskInput

log = logging.getLogger(__name__)
PER_SUBJECT_CONCURRENCY = 16


def _now() -> str:
    return datetime.now(UTC).isoformat()


class ConsentActivities:
    def __init__(self, store: ConsentStore, publisher: EventPublisher, connectors: ConnectorRegistry) -> None:
        self._store = store
        self._publisher = publisher
        self._connectors = connectors

    @activity.defn(name="record_consent_batch")
    async def record_consent_batch(self, batch: ConsentBatch) -> None:
        await self._store.note_batch(batch.batch_id, batch.tenant, len(batch.entries))
        await self._store.record_changes(batch.tenant, batch.batch_id, batch.entries)

    @activity.defn(name="apply_consent_batch")
    async def apply_consent_batch(self, work: ConsentSystemBatch) -> ConsentSystemOutcome:
        kind = work.step.connector.get("kind")
        event_ids = [entry.event_id for entry in work.entries]
        if kind == "kafka_confirm":
            return await self._send_batch_task(work, event_ids)
        if kind not in ("sql", "files"):
            raise ApplicationError(
                f"system {work.step.system}: a {kind} connector takes consent withdrawals one request at a "
                "time (privacy.requests.v1), not in batches",
                type="ConnectorConfigError",
                non_retryable=True,
            )
        connector = self._connectors.for_kind(kind)
        limit = asyncio.Semaphore(PER_SUBJECT_CONCURRENCY)

        async def stop(entry: Any) -> str:
            task = SystemTaskInput(
                work.batch_id, work.tenant, "consent_withdrawal", entry.subject, entry.occurred_at,
                work.step, {"purposes": entry.purposes},
            )  # fmt: skip
            async with limit:
                return (await connector.perform(task)).outcome

        try:
            outcomes = await asyncio.gather(*(stop(entry) for entry in work.entries))
        except ConnectorError as exc:
            if exc.retryable:
                raise
            raise ApplicationError(str(exc), type="ConnectorConfigError", non_retryable=True) from exc
        per_event = dict(zip(event_ids, outcomes, strict=True))
        counts = {o: outcomes.count(o) for o in sorted(set(outcomes))}
        return ConsentSystemOutcome(
            work.batch_id, work.tenant, work.step.system, "consent_withdrawn", _now(), event_ids,
            evidence={"subjects": len(outcomes), "outcomes": counts}, per_event=per_event,
        )  # fmt: skip

    async def _send_batch_task(self, work: ConsentSystemBatch, event_ids: list[str]) -> ConsentSystemOutcome:
        """One task for the whole batch; the tool confirms it on privacy.confirmations.v1."""
        topic = work.step.connector.get("topic", SYSTEM_TASKS_TOPIC)
        purposes = sorted({p for entry in work.entries for p in entry.purposes})
        await self._publisher.publish(
            topic,
            key=work.batch_id,
            value={
                "task_id": f"consent-batch/{work.batch_id}/{work.step.system}",
                "request_id": work.batch_id,
                "tenant": work.tenant,
                "system": work.step.system,
                "action": work.step.action,
                "subjects": [entry.subject for entry in work.entries],
                "details": {
                    "request_type": "consent_withdrawal",
                    "purposes": purposes,
                    "event_ids": event_ids,
                },
                "reply_topic": CONFIRMATIONS_TOPIC,
                "at": _now(),
            },
        )
        return ConsentSystemOutcome(
            work.batch_id, work.tenant, work.step.system, "pending", _now(), event_ids,
            evidence={"task_topic": topic, "subjects": len(event_ids)},
        )  # fmt: skip

    @activity.defn(name="record_consent_outcome")
    async def record_consent_outcome(self, outcome: ConsentSystemOutcome) -> int:
        """Per-subject evidence, then one event for the batch (counts only, no personal data)."""
        kept = await self._store.record_outcome(
            outcome.batch_id, outcome.system, outcome.outcome, outcome.at, outcome.event_ids,
            outcome.evidence, outcome.per_event,
        )  # fmt: skip
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
                "subjects": len(outcome.event_ids),
                "at": _now(),
            },
        )
        log.info(
            "consent batch %s: %s %s for %d subject(s)",
            outcome.batch_id, outcome.system, outcome.outcome, len(outcome.event_ids),
        )  # fmt: skip
        return kept
