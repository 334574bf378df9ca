"""What consent batches carry between the intake, the consent workflow and its activities.

One dataclass per call, so fields can be added later without breaking running histories.
Subjects travel only inside these payloads (encrypted by the payload codec).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from workers.messages import SystemStep


@dataclass
class ConsentEntry:
    """One consent change; ``subject`` is personal data and travels only in encrypted payloads."""

    event_id: str
    subject: dict[str, str]
    subject_refs: list[str]
    purposes: list[str]
    action: str  # withdraw | grant
    occurred_at: str


@dataclass
class SystemShare:
    """The withdrawals one system must act on: indexes into the batch's entries."""

    step: SystemStep
    entry_indexes: list[int] = field(default_factory=list)


@dataclass
class ConsentBatch:
    batch_id: str
    tenant: str
    entries: list[ConsentEntry]
    systems: list[SystemShare]


@dataclass
class ConsentSystemBatch:
    """What one system's activity gets: its step and only the entries it must act on."""

    batch_id: str
    tenant: str
    step: SystemStep
    entries: list[ConsentEntry]


@dataclass
class ConsentSystemOutcome:
    """A system's answer for a whole batch: its outcome and evidence, and per event if it says."""

    batch_id: str
    tenant: str
    system: str
    outcome: str
    at: str
    event_ids: list[str]
    evidence: dict[str, Any] = field(default_factory=dict)
    per_event: dict[str, str] = field(default_factory=dict)  # event_id -> outcome, when not all the same


@dataclass
class BatchConfirmation:
    """An asynchronous system's answer for a whole batch, routed by the intake."""

    system: str
    outcome: str
    at: str
    evidence: dict[str, Any] = field(default_factory=dict)
    reason: str | None = None
