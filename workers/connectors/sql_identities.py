"""Who the SQL system says the subject is: the identifiers its rows hold (identity resolution)
and whether the identities given all name the same record (the automatic identity check).
Only the tables searched by identity (``match``) are read; SQL from checked identifiers and
bind parameters only."""

from __future__ import annotations

from typing import Any

import asyncpg

from schemas.identity import normalise_identity, same_identity
from workers.connectors.base import ANONYMISED, identifier, subject_filter
from workers.messages.requests import SystemTaskInput


def searched_tables(task: SystemTaskInput) -> list[tuple[dict[str, Any], tuple[str, str, list[str]]]]:
    """The tables searched by identity, with the condition the subject's identities give."""
    found = []
    for spec in task.step.connector.get("tables", []):
        condition, params = subject_filter(task.identities(), spec.get("match") or {})
        if condition:
            found.append((spec, (identifier(spec["table"]), condition, params)))
    return found


async def linked_identities(pool: asyncpg.Pool, task: SystemTaskInput) -> dict[str, list[str]]:
    """Every identifier the rows found by the subject's identities hold, by kind, read from each
    table's ``match`` columns (the kinds the table is searched by)."""
    linked: dict[str, list[str]] = {}
    for spec, (table, condition, params) in searched_tables(task):
        kinds = dict(spec["match"])
        selected = ", ".join(
            f"{identifier(column)} AS {identifier('k_' + kind)}" for kind, column in kinds.items()
        )
        for row in await pool.fetch(f"SELECT DISTINCT {selected} FROM {table} WHERE {condition}", *params):
            for kind in kinds:
                held = row[f"k_{kind}"]
                value = normalise_identity(kind, str(held)) if held is not None else ""
                if value in ("", ANONYMISED):
                    continue
                if value not in linked.setdefault(kind, []):
                    linked[kind].append(value)
    return linked


async def identities_disagree(pool: asyncpg.Pool, task: SystemTaskInput) -> str | None:
    """Every record found by any identity must carry the other identities given, where it holds them.

    Every record is looked at (rows come back in no set order), so the answer names every identity
    that disagrees, the same way whichever record is read first.
    """
    disagreeing: set[str] = set()
    for spec, (table, condition, params) in searched_tables(task):
        for row in await pool.fetch(f"SELECT * FROM {table} WHERE {condition}", *params):
            for identity, column in spec["match"].items():
                given, held = task.subject.get(identity), row.get(column)
                if given is None or held is None:
                    continue
                if not same_identity(identity, given, str(held)):
                    disagreeing.add(identity)
    if not disagreeing:
        return None
    if len(disagreeing) == 1:
        return f"the {disagreeing.pop()} given does not belong to the record the other identities found"
    *first, last = sorted(disagreeing)
    return f"the {', '.join(first)} and {last} given belong to different records"
