"""Which rows of an SQL system are the subject's: found by identity, then by relation.

The walk follows the system's relation graph (``schemas.relations``) outward from the rows
found by identity: one indexed look-up per table (``customer_id = ANY($1)`` with the keys of
the parent rows already found), never one per row, never a scan. Each table's rows are
described as a WHERE condition over bind parameters, so the same rows can be counted,
read, deleted (children first) or updated inside one transaction.

A table may also name the subject as a mere counterparty (``counterparty.match``: the sender
of a parcel to someone else): those rows are the subject's only in part, and the columns
that belong to the other person (``third_party_columns``) are never disclosed or changed.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import asyncpg

from schemas.relations import TableGraph
from workers.connectors.base import identifier, subject_filter

_PLACEHOLDER = re.compile(r"\$(\d+)")


@dataclass
class Selection:
    """The subject's rows of one table: a condition over bind parameters."""

    spec: dict[str, Any]
    condition: str
    params: list[Any] = field(default_factory=list)
    # The subject appears in these rows only as a counterparty (someone else's row).
    counterparty: bool = False

    @property
    def name(self) -> str:
        return str(self.spec["table"])

    @property
    def table(self) -> str:
        return identifier(self.name)

    @property
    def withheld(self) -> list[str]:
        """Columns that belong to another person in these rows (GDPR Art. 15(4), Art. 20(4))."""
        if self.counterparty:
            return list(self.spec["counterparty"].get("third_party_columns", []))
        return list(self.spec.get("third_party_columns", []))

    @property
    def subject_columns(self) -> list[str]:
        """In a counterparty row, the columns that are the subject's part (what erasure clears)."""
        part = self.spec.get("counterparty", {})
        return list(dict.fromkeys([*part.get("match", {}).values(), *part.get("subject_columns", [])]))

    def shifted(self, offset: int) -> str:
        """The condition with its placeholders moved by ``offset``, to share one statement's
        parameters with others (placeholders are ours alone: values are never inlined)."""
        return _PLACEHOLDER.sub(lambda m: f"${int(m.group(1)) + offset}", self.condition)

    def excluding(self, column: str, values: list[Any]) -> Selection:
        """The same rows without those whose ``column`` is one of ``values`` (rows kept)."""
        if not values:
            return self
        params = [*self.params, values]
        condition = f"({self.condition}) AND NOT coalesce({identifier(column)} = ANY(${len(params)}), false)"
        return Selection(self.spec, condition, params, self.counterparty)


async def select_rows(
    conn: asyncpg.Connection,
    graph: TableGraph,
    tables: list[dict[str, Any]],
    subject: Mapping[str, str | Sequence[str]],
    *,
    counterparties: bool = True,
    lock: bool = False,
) -> list[Selection]:
    """The subject's rows of every listed table, in walking order (parents first).

    Only the key columns the children need are read (``FOR UPDATE`` inside an erasure, so a
    concurrent insert of a child cannot slip between the look-up and the delete).
    """
    specs = {spec["table"]: spec for spec in tables}
    keys: dict[str, dict[str, list[Any]]] = {}
    selections: list[Selection] = []
    for name in graph.order:
        spec = specs[name]
        clauses: list[str] = []
        condition, identities = subject_filter(subject, spec.get("match", {}))
        params: list[Any] = list(identities)
        if condition:
            clauses.append(f"({condition})")
        for relation in graph.reached_through.get(name, ()):
            values = keys.get(relation.parent, {}).get(relation.parent_column)
            if values:
                params.append(values)
                clauses.append(f"{identifier(relation.child_column)} = ANY(${len(params)})")
        own = " OR ".join(clauses)
        if own:
            selections.append(Selection(spec, own, params))
            wanted = graph.keys_for_children.get(name, ())
            if wanted:
                keys[name] = await _keys(conn, identifier(name), wanted, own, params, lock)
        part = spec.get("counterparty")
        if counterparties and part:
            condition, more = subject_filter(subject, part["match"], len(params) + 1)
            if condition:
                if own:
                    condition = f"({condition}) AND NOT coalesce(({own}), false)"
                selections.append(Selection(spec, condition, [*params, *more], counterparty=True))
    return selections


async def _keys(
    conn: asyncpg.Connection,
    table: str,
    columns: tuple[str, ...],
    condition: str,
    params: list[Any],
    lock: bool,
) -> dict[str, list[Any]]:
    """The distinct non-null values of ``columns`` in the rows the condition selects."""
    selected = ", ".join(identifier(c) for c in columns)
    rows = await conn.fetch(
        f"SELECT {selected} FROM {table} WHERE {condition}" + (" FOR UPDATE" if lock else ""), *params
    )
    return {c: list(dict.fromkeys(r[c] for r in rows if r[c] is not None)) for c in columns}


def in_deletion_order(graph: TableGraph, selections: list[Selection]) -> list[Selection]:
    """Children before parents, counterparty rows with their table."""
    rank = {name: i for i, name in enumerate(graph.deletion_order)}
    return sorted(selections, key=lambda s: rank[s.name])


def redacted(record: dict[str, Any], withheld: list[str]) -> dict[str, Any]:
    """A row without another person's columns, naming what was withheld (not its values)."""
    gone = [c for c in withheld if c in record]
    if not gone:
        return record
    kept = {k: v for k, v in record.items() if k not in gone}
    kept["withheld_columns"] = gone
    return kept
