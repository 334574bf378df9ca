"""The connector interface, its capabilities, and the result every connector returns.

What a kind of system can do is decided here, by each connector, not by the callers: whether it
answers later (a Kafka confirmation, a partner's signed callback, an operator), whether it
confirms through signed callbacks, how what was sent is withdrawn when a request is cancelled,
and whether it can act on a whole consent batch.
"""

from __future__ import annotations

import asyncio
import re
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from schemas.identity import normalise_identity, subject_refs
from schemas.vocabulary import ACTIONS, READ_ONLY_ACTIONS
from workers.messages.requests import SystemStep, SystemTaskInput
from workers.messages.retention import RetentionRule, SweepResult

# What anonymisation writes into a column that cannot be NULL: never anyone's identity.
ANONYMISED = "anonymised"
_IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


class ConnectorError(Exception):
    """A connector cannot do what was asked; ``retryable`` says whether trying again may help."""

    def __init__(self, message: str, *, retryable: bool = True) -> None:
        super().__init__(message)
        self.retryable = retryable


def identifier(name: str) -> str:
    """A SQL identifier from a policy pack, checked and quoted (packs are data, not code)."""
    if not _IDENTIFIER.match(name):
        raise ConnectorError(f"invalid SQL identifier in policy pack: {name!r}", retryable=False)
    return f'"{name}"'


@dataclass
class ConnectorResult:
    """What a connector did: outcome, evidence without personal data, records for access."""

    outcome: str
    evidence: dict[str, Any] = field(default_factory=dict)
    records: list[dict[str, Any]] = field(default_factory=list)
    legal_basis: str | None = None
    retained_until: str | None = None


@dataclass
class BatchSubject:
    """One subject of a consent batch, as a connector acts on it."""

    subject: dict[str, str]
    occurred_at: str
    purposes: list[str]
    due_at: str | None = None  # by when the system must have stopped (a GPC opt-out)


@dataclass
class BatchResult:
    """What a system did with a consent batch: one outcome for the batch (``pending`` when it
    answers later), per-subject outcomes in batch order when known, evidence without identities."""

    outcome: str
    per_subject: list[str] = field(default_factory=list)
    evidence: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class HeldSubjects:
    """The subjects under a legal hold, by keyed pseudonymous reference (``schemas.identity``):
    a retention sweep skips every row whose identities name one of them."""

    tenant: str
    refs: frozenset[str]
    key: bytes

    def holds(self, identities: dict[str, str]) -> bool:
        if not self.refs or not identities:
            return False
        return not self.refs.isdisjoint(subject_refs(self.key, self.tenant, identities))


# Actions after which the person must be gone from the system: looked up again to prove it.
VERIFIED_ACTIONS = frozenset({"erase", "anonymise"})


class Connector(ABC):
    """One kind of downstream system. Every method must be safe to call twice."""

    # The answer comes later (Kafka confirmation, signed callback, operator), not from the call.
    answers_later: bool = False
    # Its answers arrive as signed partner callbacks (the gateway checks them, the workflow applies them).
    confirms_by_signed_callback: bool = False
    # Its answers arrive on privacy.confirmations.v1 carrying the task id issued with the task.
    confirms_on_topic: bool = False
    # It can sweep a retention rule: find rows past their period by their own dates (``sweep``).
    sweeps: bool = False
    # A cancelled request must be withdrawn from it (``withdraw``).
    withdrawable: bool = False

    def changes_data(self, action: str) -> bool:
        """Whether ``action`` changes the system here, so a retry must know what an earlier try did."""
        return not self.answers_later and action not in READ_ONLY_ACTIONS

    async def withdraw(self, task: SystemTaskInput) -> dict[str, Any]:
        """Withdraw what was sent for a request that was cancelled; evidence of what was done."""
        return {"withdrawn": False, "reason": "nothing was sent that could be withdrawn"}

    async def act_on_batch(
        self, step: SystemStep, batch_id: str, tenant: str, subjects: list[BatchSubject]
    ) -> BatchResult:
        """Act on every subject of a consent batch. Kinds that cannot take batches say so."""
        raise ConnectorError(
            f"system {step.system}: a {type(self).__name__} takes consent withdrawals one request at a "
            "time (privacy.requests.v1), not in batches",
            retryable=False,
        )

    async def act_one_by_one(
        self,
        step: SystemStep,
        batch_id: str,
        tenant: str,
        subjects: list[BatchSubject],
        concurrency: int = 16,
    ) -> BatchResult:
        """A batch as one ``perform`` per subject (for kinds with no bulk statement)."""
        limit = asyncio.Semaphore(concurrency)

        async def one(entry: BatchSubject) -> str:
            task = SystemTaskInput(
                batch_id, tenant, "consent_withdrawal", entry.subject, entry.occurred_at, step,
                {"purposes": entry.purposes},
            )  # fmt: skip
            async with limit:
                return (await self.perform(task)).outcome

        outcomes = list(await asyncio.gather(*(one(entry) for entry in subjects)))
        return BatchResult("consent_withdrawn", outcomes)

    async def sweep(
        self, rule: RetentionRule, cutoff: datetime, cursor: list[str] | None, dry_run: bool,
        held: HeldSubjects,
    ) -> SweepResult:  # fmt: skip
        """Erase or anonymise one bounded batch of rows dated before ``cutoff`` (after ``cursor``),
        skipping the rows of subjects ``held``; with ``dry_run``, only count them."""
        raise ConnectorError(
            f"system {rule.system}: a {type(self).__name__} cannot sweep retention rules "
            "(only systems whose rows carry their own dates: sql, files)",
            retryable=False,
        )

    @abstractmethod
    async def locate(self, task: SystemTaskInput) -> int:
        """How many of the subject's records the system holds now."""

    async def remaining(self, task: SystemTaskInput) -> int:
        """How many of the subject's records are left after the step erased or anonymised them,
        looked for again by every identifier known (the proof an erasure is asked for)."""
        return await self.locate(task)

    async def locate_then_perform(
        self, task: SystemTaskInput, keep_count: Callable[[int], Awaitable[int]]
    ) -> tuple[int, ConnectorResult]:
        """Count the subject's records, have ``keep_count`` keep that count before anything
        changes (a retry must know what an earlier try found; it answers the count kept), then
        act. Kinds whose lookups are costly (a rate-limited API) act on what that lookup found."""
        kept = await keep_count(await self.locate(task))
        return kept, await self.perform(task)

    @abstractmethod
    async def export(self, task: SystemTaskInput) -> ConnectorResult:
        """Collect the subject's records (access, portability)."""

    @abstractmethod
    async def erase(self, task: SystemTaskInput) -> ConnectorResult:
        """Delete the subject's records."""

    async def anonymise(self, task: SystemTaskInput) -> ConnectorResult:
        raise ConnectorError(f"{type(self).__name__} cannot anonymise", retryable=False)

    async def retain(self, task: SystemTaskInput) -> ConnectorResult:
        raise ConnectorError(f"{type(self).__name__} cannot retain under restriction", retryable=False)

    async def linked_identities(self, task: SystemTaskInput) -> dict[str, list[str]]:
        """The identifiers this system holds for the subject's records, by kind (identity
        resolution asks the systems a pack marks ``identity_source``). Most kinds hold none."""
        return {}

    async def identities_disagree(self, task: SystemTaskInput) -> str | None:
        """Why the subject's identities point at different people here, or None when they agree."""
        raise ConnectorError(f"{type(self).__name__} cannot match identities", retryable=False)

    async def rectify(self, task: SystemTaskInput) -> ConnectorResult:
        raise ConnectorError(f"{type(self).__name__} cannot rectify", retryable=False)

    async def restrict(self, task: SystemTaskInput) -> ConnectorResult:
        raise ConnectorError(f"{type(self).__name__} cannot restrict processing", retryable=False)

    async def stop_processing(self, task: SystemTaskInput) -> ConnectorResult:
        raise ConnectorError(f"{type(self).__name__} cannot stop processing", retryable=False)

    async def notify(self, task: SystemTaskInput) -> ConnectorResult:
        raise ConnectorError(f"{type(self).__name__} cannot notify a recipient", retryable=False)

    async def perform(self, task: SystemTaskInput) -> ConnectorResult:
        """Dispatch the step's action to the method of the same name (``schemas.vocabulary.ACTIONS``)."""
        handler = getattr(self, task.step.action, None) if task.step.action in ACTIONS else None
        if handler is None:
            raise ConnectorError(f"action {task.step.action!r} is not supported yet", retryable=False)
        result: ConnectorResult = await handler(task)
        return result


def subject_filter(
    subject: Mapping[str, str | Sequence[str]], match: dict[str, str], first_param: int = 1
) -> tuple[str, list[str]]:
    """A SQL condition matching any of the subject's identities this table can be searched by.

    ``subject`` gives one value per identity kind (as a request states it) or several (the
    identities given and those identity resolution linked, ``SystemTaskInput.identities()``).
    Values are compared in their normalised form (``schemas.identity``); e-mail columns
    case-insensitively. Returns ("", []) when the table holds none of the identities given.
    """
    clauses: list[str] = []
    params: list[str] = []
    for identity, column in match.items():
        given = subject.get(identity)
        if not given:
            continue
        for value in [given] if isinstance(given, str) else given:
            if normalise_identity(identity, value) == ANONYMISED:
                continue
            placeholder = f"${first_param + len(params)}"
            if identity == "email":
                clauses.append(f"lower({identifier(column)}) = lower({placeholder})")
            else:
                clauses.append(f"{identifier(column)} = {placeholder}")
            params.append(normalise_identity(identity, value))
    return " OR ".join(clauses), params


def json_ready(row: dict[str, Any]) -> dict[str, Any]:
    """A database row with dates, decimals and UUIDs as strings, ready for JSON."""
    return {k: v if isinstance(v, str | int | float | bool | type(None)) else str(v) for k, v in row.items()}
