"""Manual connector: a system without an API. A person does the work and an operator confirms it.

The step stays ``pending`` until the operator confirms through the API or ``privacyctl``; the
request events topic announces what is to be done (without personal data).
"""

from __future__ import annotations

from workers.connectors.base import Connector, ConnectorError, ConnectorResult
from workers.messages.requests import SystemTaskInput


class ManualConnector(Connector):
    answers_later = True

    async def locate(self, task: SystemTaskInput) -> int:
        raise ConnectorError("a manual system is searched by a person", retryable=False)

    async def perform(self, task: SystemTaskInput) -> ConnectorResult:
        instructions = task.step.connector.get("instructions", "")
        return ConnectorResult(
            "pending", evidence={"awaiting": "operator confirmation", "instructions": instructions}
        )

    async def export(self, task: SystemTaskInput) -> ConnectorResult:
        return await self.perform(task)

    async def erase(self, task: SystemTaskInput) -> ConnectorResult:
        return await self.perform(task)


class UnreachableRecipient(Connector):
    """A recipient that cannot be told (gone, unknown address): the reason is the evidence."""

    async def locate(self, task: SystemTaskInput) -> int:
        return 0

    async def perform(self, task: SystemTaskInput) -> ConnectorResult:
        reason = task.step.connector.get("impossible_reason") or "no channel to this recipient"
        return ConnectorResult("refused", evidence={"notification_impossible": reason})

    async def export(self, task: SystemTaskInput) -> ConnectorResult:
        return await self.perform(task)

    async def erase(self, task: SystemTaskInput) -> ConnectorResult:
        return await self.perform(task)
