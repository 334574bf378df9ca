"""Kafka-confirm connector: hand the task to an asynchronous system over Kafka.

The system answers on privacy.confirmations.v1; the intake routes that answer to the
waiting system workflow. Re-sending a task is harmless: its ``task_id`` is (request, system).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from schemas import CONFIRMATIONS_TOPIC, SYSTEM_TASKS_TOPIC
from workers.connectors.base import BatchResult, BatchSubject, Connector, ConnectorError, ConnectorResult
from workers.messages.requests import SystemStep, SystemTaskInput
from workers.runtime.events import EventPublisher


async def send_task(
    publisher: EventPublisher, step: SystemStep, *, task_id: str, request_id: str, tenant: str,
    details: dict[str, Any], **subjects: Any,
) -> str:  # fmt: skip
    """Publish one task (``subject=`` one person, or ``subjects=`` a batch) for an asynchronous
    system, which answers on privacy.confirmations.v1; the topic it went to."""
    topic = str(step.connector.get("topic", SYSTEM_TASKS_TOPIC))
    await publisher.publish(
        topic,
        key=request_id,
        value={
            "task_id": task_id, "request_id": request_id, "tenant": tenant, "system": step.system,
            "action": step.action, **subjects, "details": details, "reply_topic": CONFIRMATIONS_TOPIC,
            "at": datetime.now(UTC).isoformat(),
        },
    )  # fmt: skip
    return topic


class KafkaConfirmConnector(Connector):
    answers_later = True

    def __init__(self, publisher: EventPublisher) -> None:
        self._publisher = publisher

    async def locate(self, task: SystemTaskInput) -> int:
        raise ConnectorError("an asynchronous system is searched by its own side", retryable=False)

    async def perform(self, task: SystemTaskInput) -> ConnectorResult:
        """Every action is the same here: send the task; the system does the work and answers."""
        topic = await send_task(
            self._publisher, task.step, task_id=f"{task.request_id}/{task.step.system}",
            request_id=task.request_id, tenant=task.tenant,
            details={"request_type": task.request_type, **task.details}, subject=task.subject,
        )  # fmt: skip
        return ConnectorResult("pending", evidence={"task_topic": topic})

    async def export(self, task: SystemTaskInput) -> ConnectorResult:
        return await self.perform(task)

    async def erase(self, task: SystemTaskInput) -> ConnectorResult:
        return await self.perform(task)

    async def act_on_batch(
        self, step: SystemStep, batch_id: str, tenant: str, subjects: list[BatchSubject]
    ) -> BatchResult:
        """One task for the whole batch; the tool confirms it on privacy.confirmations.v1."""
        purposes = sorted({p for entry in subjects for p in entry.purposes})
        details: dict[str, Any] = {"request_type": "consent_withdrawal", "purposes": purposes}
        dues = [entry.due_at for entry in subjects if entry.due_at]
        if dues:  # a legal date (GPC: 15 business days) the tool must meet for the whole batch
            details["due_at"] = min(dues)
        topic = await send_task(
            self._publisher, step, task_id=f"consent-batch/{batch_id}/{step.system}",
            request_id=batch_id, tenant=tenant,
            details=details,
            subjects=[entry.subject for entry in subjects],
        )  # fmt: skip
        return BatchResult("pending", evidence={"task_topic": topic, "subjects": len(subjects)})
