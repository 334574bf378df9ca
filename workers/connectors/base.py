"""The connector interface and the result every connector returns."""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any

from workers.messages import SystemTaskInput

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


class Connector(ABC):
    """One kind of downstream system. Every method must be safe to call twice."""

    @abstractmethod
    async def locate(self, task: SystemTaskInput) -> int:
        """How many of the subject's records the system holds now."""

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
        """Dispatch the step's action to the method that implements it."""
        handlers = {
            "export": self.export,
            "erase": self.erase,
            "anonymise": self.anonymise,
            "retain": self.retain,
            "rectify": self.rectify,
            "restrict": self.restrict,
            "stop_processing": self.stop_processing,
            "notify": self.notify,
        }
        handler = handlers.get(task.step.action)
        if handler is None:
            raise ConnectorError(f"action {task.step.action!r} is not supported yet", retryable=False)
        return await handler(task)


def normalised(identity: str, value: str) -> str:
    """An identity as SQL connectors compare it: e-mail addresses case-insensitively."""
    return value.lower() if identity == "email" else value


def subject_filter(
    subject: dict[str, str], match: dict[str, str], first_param: int = 1
) -> tuple[str, list[str]]:
    """A SQL condition matching any of the subject's identities this table can be searched by.

    E-mail addresses compare case-insensitively. Returns ("", []) when the table holds none of
    the identities the subject gave.
    """
    clauses: list[str] = []
    params: list[str] = []
    for identity, column in match.items():
        if identity not in subject:
            continue
        placeholder = f"${first_param + len(params)}"
        if identity == "email":
            clauses.append(f"lower({identifier(column)}) = lower({placeholder})")
        else:
            clauses.append(f"{identifier(column)} = {placeholder}")
        params.append(subject[identity])
    return " OR ".join(clauses), params


def json_ready(row: dict[str, Any]) -> dict[str, Any]:
    """A database row with dates, decimals and UUIDs as strings, ready for JSON."""
    return {k: v if isinstance(v, str | int | float | bool | type(None)) else str(v) for k, v in row.items()}
