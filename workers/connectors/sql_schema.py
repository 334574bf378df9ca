"""What an SQL system's database declares: its tables' columns and its foreign keys.

Read once per database from the catalog and kept for the life of the worker (the columns
every statement needs, the keys the relation graph is built from), so a request costs no
catalog round trip. A pack that does not fit the database is found the first time the
connector sees it, as a non-retryable error naming what is missing.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from typing import Any

import asyncpg

from schemas.relations import Relation, RelationError, TableGraph, build_graph
from workers.connectors.base import ConnectorError

_COLUMNS = """
SELECT c.relname AS table_name, a.attname AS column_name, NOT a.attnotnull AS nullable,
       format_type(a.atttypid, NULL) AS data_type
  FROM pg_attribute a
  JOIN pg_class c ON c.oid = a.attrelid
 WHERE c.relnamespace = current_schema()::regnamespace AND c.relkind IN ('r', 'p', 'v')
   AND a.attnum > 0 AND NOT a.attisdropped
"""

# Single-column foreign keys of the current schema; composite keys are not followed.
_FOREIGN_KEYS = """
SELECT k.conname, child.relname AS child, ca.attname AS child_column,
       parent.relname AS parent, pa.attname AS parent_column
  FROM pg_constraint k
  JOIN pg_class child ON child.oid = k.conrelid
  JOIN pg_class parent ON parent.oid = k.confrelid
  JOIN pg_attribute ca ON ca.attrelid = k.conrelid AND ca.attnum = k.conkey[1]
  JOIN pg_attribute pa ON pa.attrelid = k.confrelid AND pa.attnum = k.confkey[1]
 WHERE k.contype = 'f' AND cardinality(k.conkey) = 1
   AND child.relnamespace = current_schema()::regnamespace
"""


@dataclass(frozen=True)
class DatabaseSchema:
    """Columns (name → nullable, type) of every table, and the foreign keys between them."""

    columns: dict[str, dict[str, bool]]
    types: dict[str, dict[str, str]]
    foreign_keys: tuple[Relation, ...]


async def read_schema(conn: asyncpg.Connection) -> DatabaseSchema:
    columns: dict[str, dict[str, bool]] = {}
    types: dict[str, dict[str, str]] = {}
    for row in await conn.fetch(_COLUMNS):
        columns.setdefault(row["table_name"], {})[row["column_name"]] = row["nullable"]
        types.setdefault(row["table_name"], {})[row["column_name"]] = row["data_type"]
    keys = tuple(
        Relation(
            r["child"], r["child_column"], r["parent"], r["parent_column"], f"foreign key {r['conname']}"
        )
        for r in await conn.fetch(_FOREIGN_KEYS)
    )
    return DatabaseSchema(columns, types, keys)


class SchemaCache:
    """Each database's schema, read on first use; each pack's graph over it, built once."""

    def __init__(self) -> None:
        self._schemas: dict[str, DatabaseSchema] = {}
        self._graphs: dict[tuple[str, str], TableGraph] = {}
        self._lock = asyncio.Lock()

    async def schema(self, database: str, pool: asyncpg.Pool, *, fresh: bool = False) -> DatabaseSchema:
        if fresh or database not in self._schemas:
            async with self._lock, pool.acquire() as conn:
                self._schemas[database] = await read_schema(conn)
        return self._schemas[database]

    async def graph(self, database: str, pool: asyncpg.Pool, tables: list[dict[str, Any]]) -> TableGraph:
        """The walking order of the pack's tables in this database, or a pack error.

        A graph that does not fit is re-checked against a freshly read schema once (the
        tables may have been created since), then refused for good: retrying cannot mend a pack.
        """
        key = (database, json.dumps(tables, sort_keys=True))
        if key in self._graphs:
            return self._graphs[key]
        try:
            graph = self._build(database, await self.schema(database, pool), tables)
        except RelationError:
            graph = None
        if graph is None:
            try:
                graph = self._build(database, await self.schema(database, pool, fresh=True), tables)
            except RelationError as exc:
                raise ConnectorError(
                    f"policy pack error for database {database}: {exc}", retryable=False
                ) from None
        self._graphs[key] = graph
        return graph

    @staticmethod
    def _build(database: str, schema: DatabaseSchema, tables: list[dict[str, Any]]) -> TableGraph:
        typed = {t: dict(cols) for t, cols in schema.types.items()}
        return build_graph(tables, schema.foreign_keys, typed, database=database)
