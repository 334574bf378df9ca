"""Every state in which a request waits — the systems' answers, an identity check, an
objection or rectification decision, a legal hold — waits the same way: reminders, an operator
alert before the due date, the overdue flag after it. Mixed into RequestWorkflow.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any, TypeVar

from temporalio import workflow

from orchestrator.workflows.escalation import next_checkpoint
from orchestrator.workflows.models import RequestInput, RequestState
from orchestrator.workflows.system_task import SystemTaskWorkflow

with workflow.unsafe.imports_passed_through():
    from workers.activities import definitions
    from workers.messages.requests import OperatorAlert

MAX_REMINDERS = 20
SYSTEMS = "systems"  # the fan-out's wait: on the systems' answers
ESCALATE_EVERY_WAIT = "escalate-every-wait"  # patch id: waits other than the fan-out escalate too
A = TypeVar("A")
R = TypeVar("R")


class EscalatingWaits:
    _state: RequestState
    _fired: set[str]  # escalations done (remind-N, alert, overdue)
    _due_seen: str  # the due date the alert and overdue flag were planned for
    _wake: bool
    _pending: set[str]
    _children: dict[str, Any]

    def _set_flag(self, flag: str, on: bool) -> None:
        raise NotImplementedError

    async def _set_status(self, status: str, reason: str | None = None) -> None:
        raise NotImplementedError

    async def _activity(self, stub: Callable[[A], Awaitable[R]], argument: A) -> R:
        raise NotImplementedError

    async def _wait_escalating(
        self, request: RequestInput, done: Callable[[], bool], waiting_for: str
    ) -> None:
        """Wait until ``done`` (or a cancellation) while the clock runs: remind every
        ``remind_after`` since this wait began, alert an operator ``alert_before_due`` the due
        date, and flag the request overdue after it. Every state in which a request waits uses
        this one loop: the systems' answers, an identity check, an objection decision, a hold.
        The alert and the overdue flag fire once per due date, whichever wait they fall in."""
        if waiting_for != SYSTEMS and not workflow.patched(ESCALATE_EVERY_WAIT):
            # Runs started before every wait escalated replay without timers here.
            await workflow.wait_condition(lambda: done() or self._state.cancelled is not None)
            return
        started = workflow.now()
        self._fired = {kind for kind in self._fired if not kind.startswith("remind")}
        while not done() and self._state.cancelled is None:
            if self._state.due_at != self._due_seen:
                # Extended: the operator is alerted again before the new due date.
                self._fired -= {"alert", "overdue"}
                self._due_seen = self._state.due_at
            checkpoint = next_checkpoint(
                started,
                datetime.fromisoformat(self._state.due_at),
                request.remind_after if len(self._fired) < MAX_REMINDERS else None,
                request.alert_before_due,
                self._fired,
            )
            timeout = None if checkpoint is None else max((checkpoint.at - workflow.now()).total_seconds(), 0)
            self._wake = False
            try:
                await workflow.wait_condition(
                    lambda: done() or self._wake or self._state.cancelled is not None,
                    timeout=timeout if timeout is None or timeout > 0 else 0.001,
                )
            except TimeoutError:
                assert checkpoint is not None
                self._fired.add(checkpoint.kind)
                await self._escalate(request, checkpoint.kind, waiting_for)

    async def _escalate(self, request: RequestInput, kind: str, waiting_for: str) -> None:
        pending = sorted(self._pending) if waiting_for == SYSTEMS else []
        if kind.startswith("remind") and waiting_for == SYSTEMS:
            # Each silent system is asked again: its task re-sent, its attempt counted.
            for system in pending:
                if system in self._children:
                    await self._children[system].signal(SystemTaskWorkflow.remind)
            return
        if kind == "overdue":
            self._set_flag("overdue", True)
            await self._set_status(self._state.status)
        await self._activity(
            definitions.alert_operator,
            OperatorAlert(
                request.request_id,
                request.tenant,
                request.request_type,
                "overdue" if kind == "overdue" else "operator_alert",
                self._state.due_at,
                pending,
                # An operator is what the request waits on: a reminder is an alert to them.
                waiting_for="" if waiting_for == SYSTEMS else waiting_for,
                reminder=int(kind.split("-")[1]) if kind.startswith("remind") else 0,
            ),
        )
