"""DRP status callbacks: tell each agent's ``status_callback`` when its request's status changes.

Why a ledger follower in the API process, not a consumer of ``privacy.request-events.v1`` or
a workflow activity: the DRP status is derived from the ledger (the request's status, flags,
due date) joined with the agent's revocation, so the ledger is what must be followed; the
``drp_requests`` row remembers what the agent last acknowledged, so a restart, a second API
replica or a lost event never loses a change, and no workflow (or its history) learns about
agents. Every ``every`` seconds the rows not known final are read; a row whose status differs
from what was acknowledged is POSTed (the Exercise Status object, JSON). A non-2xx or an
unreachable agent is retried with exponential backoff (``base`` doubling, capped at ``cap``);
a final status acknowledged ends the row's notices — except ``fulfilled`` with an ``expires_at``,
which is followed until it turns ``expired``. Rows read with nothing new go to the back of the
queue. Only the latest status is sent: the spec asks for a best effort at the most recent one.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

import aiohttp

from orchestrator.api.drp_protocol import StatusContext, drp_status, final_notice, status_key
from workers.ledger import Ledger

log = logging.getLogger("privacy.drp.notify")


def backoff(attempts: int, base: float, cap: float) -> float:
    """Seconds before the next try after ``attempts`` failures: base, 2·base, 4·base, … ≤ cap."""
    return float(min(cap, base * (2 ** max(attempts - 1, 0))))


class StatusNotifier:
    def __init__(
        self,
        ledger: Ledger,
        every: float = 2.0,
        base: float = 1.0,
        cap: float = 600.0,
        timeout: float = 10.0,
        context: StatusContext | None = None,
    ) -> None:
        self._ledger = ledger
        self._context = context or StatusContext()
        self._every = every
        self._base = base
        self._cap = cap
        self._timeout = aiohttp.ClientTimeout(total=timeout)

    async def run(self) -> None:
        async with aiohttp.ClientSession(timeout=self._timeout) as http:
            while True:
                try:
                    await self.notify_once(http)
                except Exception as exc:  # noqa: BLE001 - the ledger is away: try on the next tick
                    log.warning("drp status notices skipped this round (%s)", type(exc).__name__)
                await asyncio.sleep(self._every)

    async def notify_once(self, http: aiohttp.ClientSession) -> int:
        """One round; returns how many agents were told of a change."""
        told = 0
        unchanged: list[str] = []
        for row in await self._ledger.drp.due_for_notice():
            status = drp_status(row, self._context)
            key = status_key(status)
            if key == row["notified"]:
                unchanged.append(row["request_id"])
                continue
            if await self._send(http, row, status):
                told += 1
                await self._ledger.drp.notified(row["request_id"], key, final_notice(status))
        await self._ledger.drp.unchanged(unchanged, self._every)
        return told

    async def _send(self, http: aiohttp.ClientSession, row: dict[str, Any], status: dict[str, Any]) -> bool:
        error = ""
        with contextlib.suppress(asyncio.TimeoutError):
            try:
                async with http.post(row["status_callback"], json=status) as response:
                    await response.read()  # the body is discarded, as the spec says
                    if 200 <= response.status < 300:
                        log.info("drp agent told: agent=%s status=%s", row["agent_id"], status["status"])
                        return True
                    error = f"HTTP {response.status}"
            except aiohttp.ClientError as exc:
                error = type(exc).__name__
        error = error or "timeout"
        retry_in = backoff(row["notify_attempts"] + 1, self._base, self._cap)
        attempts = await self._ledger.drp.notice_failed(row["request_id"], error, retry_in)
        log.warning("drp status callback failed (%s), attempt %d, next in %.0fs: agent=%s",
                    error, attempts, retry_in, row["agent_id"])  # fmt: skip
        return False
