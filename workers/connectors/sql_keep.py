"""Rows an erasure keeps because something kept refers to them (a shipment an open claim is
about): the rule's ``keep_referenced`` (GDPR Art. 17(3)(e), legal claims).

Pack shape, in an erasure rule: ``"keep_referenced": [{"table": "shipments", "column":
"shipment_id", "referenced_by": {"database": ..., "table": "claims", "column": "shipment_id",
"where": {"status": ["open"]}}, "legal_basis": ..., "retain_for": "P5Y"}]``. The referring
table may live in another database of the same server (another system). Kept rows are
restricted (stored, not processed) and the system's outcome is ``retained`` with that basis.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import asyncpg

from schemas.periods import add_iso_period
from workers.connectors.base import ConnectorResult, identifier
from workers.connectors.pools import DatabasePools
from workers.connectors.sql_rows import Selection
from workers.connectors.sql_schema import DatabaseSchema
from workers.messages.requests import SystemStep


@dataclass
class KeptRows:
    """The rows of one table kept under one basis: their ``column`` values."""

    table: str
    column: str
    values: list[Any]
    legal_basis: str
    retain_for: str


@dataclass
class Kept:
    """Every row the rule keeps, by table."""

    rows: list[KeptRows] = field(default_factory=list)
    restricted: bool = False  # the kept rows were flagged restricted (the system has a flag)

    def apply(self, selections: list[Selection]) -> list[Selection]:
        """The selections without the kept rows (what erasure may act on)."""
        result = []
        for s in selections:
            for kept in self.rows:
                if kept.table == s.name:
                    s = s.excluding(kept.column, kept.values)
            result.append(s)
        return result

    async def restrict(
        self, conn: asyncpg.Connection, step: SystemStep, schema: DatabaseSchema
    ) -> dict[str, int]:
        """Mark the kept rows restricted, where the system has a restriction flag."""
        flag = step.connector.get("restrict_column")
        counts: dict[str, int] = {}
        for kept in self.rows:
            if flag and flag in schema.columns.get(kept.table, {}):
                status = await conn.execute(
                    f"UPDATE {identifier(kept.table)} SET {identifier(flag)} = true"
                    f" WHERE {identifier(kept.column)} = ANY($1)",
                    kept.values,
                )
                counts[kept.table] = counts.get(kept.table, 0) + int(status.split()[-1])
                self.restricted = True
            else:
                counts[kept.table] = counts.get(kept.table, 0) + len(kept.values)
        return counts

    def result(
        self, done: str, evidence: dict[str, Any], restricted: dict[str, int], submitted_at: str
    ) -> ConnectorResult:
        """``done`` when nothing was kept; else ``retained`` with the basis and until when."""
        if not self.rows:
            return ConnectorResult(done, evidence=evidence)
        start = datetime.fromisoformat(submitted_at)
        until = max(add_iso_period(start, kept.retain_for) for kept in self.rows)
        bases = list(dict.fromkeys(kept.legal_basis for kept in self.rows))
        evidence = {**evidence, "kept_by_table": restricted, "kept_restricted": self.restricted}
        return ConnectorResult(
            "retained", evidence=evidence, legal_basis="; ".join(bases), retained_until=until.isoformat()
        )


async def kept_rows(
    pools: DatabasePools, conn: asyncpg.Connection, rule: dict[str, Any], selections: list[Selection]
) -> Kept:
    """Which of the selected rows the rule's ``keep_referenced`` entries keep."""
    kept = Kept()
    for keep in rule.get("keep_referenced", []):
        values: list[Any] = []
        for s in selections:
            if s.name != keep["table"]:
                continue
            rows = await conn.fetch(
                f"SELECT DISTINCT {identifier(keep['column'])} AS v FROM {s.table} WHERE {s.condition}",
                *s.params,
            )
            values.extend(r["v"] for r in rows if r["v"] is not None)
        if not values:
            continue
        referring = await _referenced(pools, conn, keep["referenced_by"], list(dict.fromkeys(values)))
        if referring:
            kept.rows.append(
                KeptRows(keep["table"], keep["column"], referring, keep["legal_basis"], keep["retain_for"])
            )
    return kept


async def _referenced(
    pools: DatabasePools, conn: asyncpg.Connection, by: dict[str, Any], values: list[Any]
) -> list[Any]:
    """The values that a row of the referring table (matching its ``where``) points at."""
    column = identifier(by["column"])
    clauses = [f"{column} = ANY($1)"]
    params: list[Any] = [values]
    for name, allowed in by.get("where", {}).items():
        params.append(list(allowed) if isinstance(allowed, list) else [allowed])
        clauses.append(f"{identifier(name)} = ANY(${len(params)})")
    statement = f"SELECT DISTINCT {column} AS v FROM {identifier(by['table'])} WHERE {' AND '.join(clauses)}"
    if by.get("database"):
        rows = await (await pools.get(by["database"])).fetch(statement, *params)
    else:
        rows = await conn.fetch(statement, *params)
    return [r["v"] for r in rows]
