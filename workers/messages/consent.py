"""What consent batches carry between the intake, the consent workflow and its activities.

One dataclass per call, so fields can be added later without breaking running histories.
Subjects travel only inside these payloads (encrypted by the payload codec).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from workers.messages.requests import SystemStep


@dataclass
class ConsentEntry:
    """One consent change; ``subject`` is personal data and travels only in encrypted payloads."""

    event_id: str
    subject: dict[str, str]
    subject_refs: list[str]
    purposes: list[str]
    action: str  # withdraw | grant
    occurred_at: str
    due_at: str | None = None  # by when systems must have stopped (a GPC opt-out: 15 business days)


@dataclass
class SystemShare:
    """The withdrawals one system must act on: indexes into the batch's entries."""

    step: SystemStep
    entry_indexes: list[int] = field(default_factory=list)


@dataclass
class ConsentBatch:
    """The workflow's input. The changes themselves (with identities) are not in it: the intake
    keeps them encrypted in the ledger (a claim check), so histories stay small and fast."""

    batch_id: str
    tenant: str
    changes: int
    systems: list[SystemShare]
    # The intake kept the changes and the suppression list with the sealed batch, in one
    # transaction: the workflow goes straight to the systems (no record_consent_batch).
    recorded: bool = False


@dataclass
class ConsentSystemBatch:
    """What one system's activity gets: its step and which of the batch's changes are its."""

    batch_id: str
    tenant: str
    step: SystemStep
    entry_indexes: list[int]


def entries_to_json(entries: list[ConsentEntry]) -> bytes:
    # By hand, not dataclasses.asdict: this runs for every consent change at stream speed.
    return json.dumps(
        [
            {"event_id": e.event_id, "subject": e.subject, "subject_refs": e.subject_refs,
             "purposes": e.purposes, "action": e.action, "occurred_at": e.occurred_at,
             "due_at": e.due_at}
            for e in entries
        ]
    ).encode()  # fmt: skip


def entries_from_json(raw: bytes) -> list[ConsentEntry]:
    return [ConsentEntry(**item) for item in json.loads(raw)]


@dataclass
class ConsentSystemOutcome:
    """A system's answer for a whole batch: its outcome and evidence, and per event if it says."""

    batch_id: str
    tenant: str
    system: str
    outcome: str
    at: str
    entry_indexes: list[int]  # which of the batch's changes this answer is for
    evidence: dict[str, Any] = field(default_factory=dict)
    per_entry: list[str] = field(default_factory=list)  # outcome per entry index, when not all the same
    # The activity that acted also kept the per-subject evidence (act_on_consent_batch); then
    # entry_indexes and per_entry are left empty: the workflow needs neither, and at thousands
    # of subjects they were most of the payloads Temporal carried.
    recorded: bool = False


@dataclass
class BatchConfirmation:
    """An asynchronous system's answer for a whole batch, routed by the intake."""

    system: str
    outcome: str
    at: str
    evidence: dict[str, Any] = field(default_factory=dict)
    reason: str | None = None
