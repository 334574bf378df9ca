"""Publishing JSON values on the contract's Kafka topics (request events, system tasks)."""

from __future__ import annotations

import json
from typing import Any

from aiokafka import AIOKafkaProducer

from schemas import validate
from workers.runtime.telemetry import trace_headers


class EventPublisher:
    """A started aiokafka producer that validates each value against its topic's schema.

    No idempotent producer (Tansu refuses InitProducerId, and production must not depend on
    it either): consumers de-duplicate by the value's own id.
    """

    def __init__(self, bootstrap: str) -> None:
        self._producer = AIOKafkaProducer(
            bootstrap_servers=bootstrap, acks="all", linger_ms=5, enable_idempotence=False
        )

    async def start(self) -> None:
        await self._producer.start()

    async def stop(self) -> None:
        await self._producer.stop()

    async def publish(self, topic: str, key: str, value: dict[str, Any]) -> None:
        validate(topic, value)
        await self._producer.send_and_wait(
            topic, json.dumps(value, default=str).encode(), key=key.encode(), headers=trace_headers()
        )
