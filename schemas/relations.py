"""The relations between an SQL system's tables, as a graph the connector walks (pure).

A pack lists a system's tables; a table with ``match`` is searched by the subject's
identities, a table without it is reached through relations from one that has it: the
database's own foreign keys, or the pack's ``"references": [{"column": "customer_id", "to":
"customer.id"}]`` where the database declares none. Relations are followed from the
referenced row to the rows that reference it (a customer's orders, an order's reviews): the
rows that point at the subject's rows are the subject's too. The graph must be acyclic and
every listed table reachable; anything else is a pack error, raised before any row is touched.

Used twice: by the pack loader with the pack alone (what can be checked without the
database), and by the SQL connector once per database with its introspected keys and columns.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


class RelationError(ValueError):
    """The pack's tables and relations do not form a graph the connector can walk."""


@dataclass(frozen=True)
class Relation:
    """``child.child_column`` holds values of ``parent.parent_column`` (a foreign key)."""

    child: str
    child_column: str
    parent: str
    parent_column: str
    source: str  # "foreign key <name>" or "pack references"

    def __str__(self) -> str:
        return f"{self.child}.{self.child_column} -> {self.parent}.{self.parent_column} ({self.source})"


@dataclass(frozen=True)
class TableGraph:
    """Listed tables in walking order (every table after the tables it is reached from),
    the relations each one is reached through, and the columns its children need of it."""

    order: tuple[str, ...]
    reached_through: Mapping[str, tuple[Relation, ...]] = field(default_factory=dict)
    keys_for_children: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    @property
    def deletion_order(self) -> tuple[str, ...]:
        """Children before parents, so no foreign key is ever left dangling."""
        return tuple(reversed(self.order))


def pack_relations(tables: Sequence[Mapping[str, Any]]) -> list[Relation]:
    """The relations a pack declares (``references``), checked for shape and listed targets."""
    listed = {spec.get("table") for spec in tables}
    found = []
    for spec in tables:
        table = _checked_name(spec.get("table"), "table")
        for reference in spec.get("references", []):
            column = _checked_name(reference.get("column"), f"{table}: references column")
            target = str(reference.get("to", ""))
            parent, _, parent_column = target.partition(".")
            if not parent or not parent_column:
                raise RelationError(
                    f"{table}.{column}: references 'to' must be 'table.column', not {target!r}"
                )
            _checked_name(parent, f"{table}.{column}: references table")
            _checked_name(parent_column, f"{table}.{column}: references column")
            if parent not in listed:
                raise RelationError(
                    f"{table}.{column} references {target}, but the system does not list table {parent!r}"
                )
            found.append(Relation(table, column, parent, parent_column, "pack references"))
    return found


def build_graph(
    tables: Sequence[Mapping[str, Any]],
    foreign_keys: Sequence[Relation] = (),
    columns: Mapping[str, Mapping[str, Any]] | None = None,
    *,
    database: str = "the database",
) -> TableGraph:
    """The walking order of a system's tables, or a RelationError saying what is wrong.

    ``foreign_keys`` are the database's own (any table; only those between listed tables
    count); ``columns`` maps each existing table to its columns. Without ``columns`` (the pack
    alone) existence and reachability through the database's keys cannot be judged, so only
    the pack's own references are checked, for shape, targets and cycles.
    """
    names = [_checked_name(spec.get("table"), "table") for spec in tables]
    duplicated = sorted({n for n in names if names.count(n) > 1})
    if duplicated:
        raise RelationError(f"tables listed twice: {duplicated}")
    listed = set(names)
    relations = _unique(
        [r for r in foreign_keys if r.child in listed and r.parent in listed] + pack_relations(tables)
    )
    if columns is not None:
        _check_columns(tables, relations, columns, database)
    order = _walking_order(names, relations)
    reached_through = {n: tuple(r for r in relations if r.child == n) for n in names}
    if columns is not None:
        _check_reachable(tables, reached_through)
    keys = {n: tuple(sorted({r.parent_column for r in relations if r.parent == n})) for n in names}
    return TableGraph(order, reached_through, {n: k for n, k in keys.items() if k})


def _checked_name(name: Any, what: str) -> str:
    if not isinstance(name, str) or not _NAME.match(name):
        raise RelationError(f"{what}: invalid SQL identifier {name!r}")
    return name


def _unique(relations: list[Relation]) -> list[Relation]:
    """One relation per (child column, parent column): a pack reference repeating a key adds nothing."""
    seen: dict[tuple[str, str, str, str], Relation] = {}
    for r in relations:
        seen.setdefault((r.child, r.child_column, r.parent, r.parent_column), r)
    return list(seen.values())


def _check_columns(
    tables: Sequence[Mapping[str, Any]],
    relations: list[Relation],
    columns: Mapping[str, Mapping[str, Any]],
    database: str,
) -> None:
    """Every listed table, identity column and key column exists in the database."""
    for spec in tables:
        table = spec["table"]
        if table not in columns:
            raise RelationError(f"table {table!r} is listed by the pack but does not exist in {database}")
        part = spec.get("counterparty", {})
        named = {
            "matches on": [*spec.get("match", {}).values(), *part.get("match", {}).values()],
            # A misspelt column here would disclose another person's data: refused, not ignored.
            "withholds": [*spec.get("third_party_columns", []), *part.get("third_party_columns", [])],
            "clears": part.get("subject_columns", []),
        }
        for verb, used in named.items():
            for column in used:
                if column not in columns[table]:
                    raise RelationError(f"{table}.{column}: the pack {verb} a column that does not exist")
    for r in relations:
        for table, column in ((r.child, r.child_column), (r.parent, r.parent_column)):
            if column not in columns[table]:
                raise RelationError(f"{r}: column {table}.{column} does not exist in {database}")
        child_type, parent_type = columns[r.child][r.child_column], columns[r.parent][r.parent_column]
        if isinstance(child_type, str) and isinstance(parent_type, str) and child_type != parent_type:
            raise RelationError(
                f"{r}: the column is {child_type} but the column it references is {parent_type}"
            )


def _walking_order(names: list[str], relations: list[Relation]) -> tuple[str, ...]:
    """Parents before children (Kahn's algorithm, stable in pack order); a cycle is an error."""
    parents = {n: {r.parent for r in relations if r.child == n} for n in names}
    order: list[str] = []
    while len(order) < len(names):
        ready = [n for n in names if n not in order and parents[n] <= set(order)]
        if not ready:
            raise RelationError(
                f"the relations form a cycle: {' -> '.join(_a_cycle(names, order, relations))}"
            )
        order.append(ready[0])
    return tuple(order)


def _a_cycle(names: list[str], done: list[str], relations: list[Relation]) -> list[str]:
    """One cycle among the tables not yet ordered, to name it in the error."""
    left = [n for n in names if n not in done]
    parent_of = {n: next(r.parent for r in relations if r.child == n and r.parent not in done) for n in left}
    path = [left[0]]
    while parent_of[path[-1]] not in path:
        path.append(parent_of[path[-1]])
    start = path.index(parent_of[path[-1]])
    cycle = path[start:]
    return [*cycle, cycle[0]]


def _check_reachable(
    tables: Sequence[Mapping[str, Any]], reached_through: Mapping[str, tuple[Relation, ...]]
) -> None:
    """Every table without ``match`` is reached from a table with it, through the relations."""
    searched = {spec["table"] for spec in tables if spec.get("match") or spec.get("counterparty")}
    if not searched:
        raise RelationError("no listed table has 'match': nothing can be searched by identity")
    reached = set(searched)
    grew = True
    while grew:
        grew = False
        for table, through in reached_through.items():
            if table not in reached and any(r.parent in reached for r in through):
                reached.add(table)
                grew = True
    for spec in tables:
        if spec["table"] not in reached:
            raise RelationError(
                f"table {spec['table']!r} has no 'match' and no relation leads to it from a table that has "
                "one (relations are followed from the referenced row to the rows referencing it); "
                "declare its foreign key or add 'references'"
            )
