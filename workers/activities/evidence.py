"""What every activity does after acting: keep the outcome in the ledger and tell other services.

One place for the request-event envelope on ``privacy.request-events.v1`` (deterministic event
ids, so a retried activity's re-publication is recognisable downstream; no personal data) and
for storing a system's outcome once (first final answer wins), with its confirmation-time metric.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from schemas import REQUEST_EVENTS_TOPIC
from workers.ledger import Ledger
from workers.messages.requests import SystemResult
from workers.runtime.events import EventPublisher
from workers.runtime.metrics import CONFIRMATION_DURATION

log = logging.getLogger("workers.activities")


def now() -> str:
    return datetime.now(UTC).isoformat()


class Evidence:
    def __init__(self, ledger: Ledger, publisher: EventPublisher) -> None:
        self.ledger = ledger
        self._publisher = publisher

    async def event(
        self, request_id: str, tenant: str, request_type: str, kind: str, change: str, **fields: Any
    ) -> None:
        """Publish a state change; its id is (request, change), so repeats are recognisable."""
        value = {
            "event_id": f"{request_id}:{change}", "request_id": request_id, "tenant": tenant,
            "type": request_type, "kind": kind, "at": now(), **fields,
        }  # fmt: skip
        await self._publisher.publish(REQUEST_EVENTS_TOPIC, key=request_id, value=value)

    async def publish_value(self, topic: str, key: str, value: dict[str, Any]) -> None:
        """Publish a value of the contract as it is (events that are not a request's, e.g. a sweep run)."""
        await self._publisher.publish(topic, key=key, value=value)

    async def store_outcome(
        self, request_id: str, tenant: str, request_type: str, result: SystemResult
    ) -> SystemResult:
        """Keep a system's outcome (an earlier final answer wins and is returned) and publish it."""
        stored = await self.ledger.record_outcome(request_id, result)
        if stored is result and result.final:  # stored now, not a repeat of an earlier answer
            seconds = await self.ledger.seconds_to_confirm(request_id, result.system)
            if seconds is not None:
                attributes = {"tenant": tenant, "system": result.system, "outcome": result.outcome}
                CONFIRMATION_DURATION.record(seconds, attributes)
        await self.publish_outcome(request_id, tenant, request_type, stored)
        log.info("request %s system %s: %s", request_id, stored.system, stored.outcome)
        return stored

    async def publish_outcome(
        self, request_id: str, tenant: str, request_type: str, result: SystemResult
    ) -> None:
        await self.event(
            request_id, tenant, request_type, "system_outcome", f"system:{result.system}:{result.outcome}",
            system=result.system, action=result.action, outcome=result.outcome,
            at=result.confirmed_at or now(),
        )  # fmt: skip
