"""When to remind silent systems, alert an operator, and flag a request overdue. Pure."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from schemas.periods import add_iso_period, subtract_iso_period


@dataclass(frozen=True)
class Checkpoint:
    kind: str  # remind | alert | overdue
    at: datetime


def next_checkpoint(
    started: datetime,
    due: datetime,
    remind_after: str | None,
    alert_before_due: str | None,
    fired: set[str],
) -> Checkpoint | None:
    """The earliest escalation not fired yet. Reminders repeat every ``remind_after``."""
    candidates = []
    if remind_after:
        reminders = sum(1 for f in fired if f.startswith("remind"))
        at = started
        for _ in range(reminders + 1):
            at = add_iso_period(at, remind_after)
        candidates.append(Checkpoint(f"remind-{reminders + 1}", at))
    if alert_before_due and "alert" not in fired:
        candidates.append(Checkpoint("alert", subtract_iso_period(due, alert_before_due)))
    if "overdue" not in fired:
        candidates.append(Checkpoint("overdue", due))
    return min(candidates, key=lambda c: c.at) if candidates else None
