"""The ledger's schema by numbered SQL migrations: ``migrations/NNNN_<name>.sql``, each applied once.

``migrate(pool_or_conn)`` applies, in number order, every file not yet recorded in
``schema_migrations`` — one transaction per file, which also records its version, name and
checksum — and returns the names it applied. A file must not contain BEGIN/COMMIT. Files are
read with ``importlib.resources``, so an installed package finds them as the source tree does.

Concurrency: the worker, intake, API and CLI may start at once against one database. The whole
run holds a session advisory lock (``LOCK_KEY``, the key the pre-migration ``ensure_schema`` took
as a transaction lock, so old and new processes also wait for each other); whoever comes second
finds everything recorded and applies nothing.

Checksums: a recorded migration whose file has changed or been renamed stops start-up with
``MigrationError`` naming it: an applied migration is never re-run or skipped silently. One this
release does not know (a newer release migrated the ledger during a rolling deploy) is logged as a
warning. A new change to the schema is a new file with the next number, and only adds.

Adopting a ledger created before migrations existed (``requests`` exists, ``schema_migrations``
does not): every release before migrations ran the same idempotent ``CREATE TABLE IF NOT EXISTS``
/ ``ADD COLUMN IF NOT EXISTS`` SQL at each start, kept verbatim in ``migrations/baseline.sql``.
The runner runs that baseline once — bringing a ledger of any earlier release up to the last
pre-migration schema, which is exactly what 0001..``BASELINE_VERSION`` create — and, in the same
transaction, records those migrations as applied without running them. Later migrations then
apply as on any ledger. No per-table guessing: the baseline makes the state known.
"""

from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import dataclass
from importlib import resources
from typing import Any

import asyncpg

log = logging.getLogger("workers.ledger")

LOCK_KEY = 7203311
BASELINE_VERSION = 6  # 0001..0006 together are the schema of migrations/baseline.sql
BASELINE_FILE = "baseline.sql"
_FILE_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")

_CREATE_TABLE = """
CREATE TABLE schema_migrations (
    version    integer PRIMARY KEY,
    name       text NOT NULL,
    checksum   text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
)
"""


class MigrationError(RuntimeError):
    """The ledger's recorded migrations and this release's files disagree."""


@dataclass(frozen=True)
class Migration:
    version: int
    name: str  # the file's stem, e.g. "0001_requests"
    sql: str

    @property
    def file(self) -> str:
        return f"{self.name}.sql"

    @property
    def checksum(self) -> str:
        return checksum(self.sql)


def checksum(sql: str) -> str:
    """SHA-256 of the file's text, line endings normalised (a CRLF checkout is the same file)."""
    return hashlib.sha256(sql.replace("\r\n", "\n").encode()).hexdigest()


def _directory() -> Any:
    return resources.files("workers.ledger").joinpath("migrations")


def load_migrations() -> list[Migration]:
    """Every ``NNNN_<name>.sql`` in number order; two files with one number are an error."""
    found: dict[int, Migration] = {}
    for entry in _directory().iterdir():
        match = _FILE_NAME.match(entry.name)
        if not match:
            continue
        version = int(match.group(1))
        if version in found:
            raise MigrationError(f"two migrations numbered {version}: {found[version].file}, {entry.name}")
        found[version] = Migration(version, entry.name.removesuffix(".sql"), entry.read_text("utf-8"))
    return [found[v] for v in sorted(found)]


def baseline_sql() -> str:
    text: str = _directory().joinpath(BASELINE_FILE).read_text("utf-8")
    return text


async def migrate(target: asyncpg.Pool | asyncpg.Connection) -> list[str]:
    """Bring the ledger's schema up to date; returns the names of the migrations applied now."""
    migrations = load_migrations()
    if isinstance(target, asyncpg.Pool):
        async with target.acquire() as conn:
            return await _migrate(conn, migrations)
    return await _migrate(target, migrations)


async def _migrate(conn: Any, migrations: list[Migration]) -> list[str]:
    await conn.execute("SELECT pg_advisory_lock($1)", LOCK_KEY)
    try:
        await _start_recording(conn, migrations)
        applied = await _check_recorded(conn, migrations)
        done: list[str] = []
        for migration in migrations:
            if migration.version in applied:
                continue
            async with conn.transaction():
                await conn.execute(migration.sql)
                await _record(conn, migration)
            log.info("ledger migration applied: %s", migration.name)
            done.append(migration.name)
        return done
    finally:
        if not conn.is_closed():  # a lost connection has released the lock already
            await conn.execute("SELECT pg_advisory_unlock($1)", LOCK_KEY)


async def _start_recording(conn: Any, migrations: list[Migration]) -> None:
    """Create ``schema_migrations`` if missing; adopt a pre-migration ledger (module docstring)."""
    if await conn.fetchval("SELECT to_regclass('schema_migrations') IS NOT NULL"):
        return
    legacy = await conn.fetchval("SELECT to_regclass('requests') IS NOT NULL")
    async with conn.transaction():
        await conn.execute(_CREATE_TABLE)
        if not legacy:
            return
        await conn.execute(baseline_sql())
        adopted = [m for m in migrations if m.version <= BASELINE_VERSION]
        for migration in adopted:
            await _record(conn, migration)
    log.info(
        "ledger created before migrations adopted: baseline run, recorded as applied: %s",
        ", ".join(m.name for m in adopted),
    )


async def _check_recorded(conn: Any, migrations: list[Migration]) -> set[int]:
    """The recorded versions, after checking each against this release's file of that number."""
    by_version = {m.version: m for m in migrations}
    rows = await conn.fetch("SELECT version, name, checksum FROM schema_migrations ORDER BY version")
    for row in rows:
        migration = by_version.get(row["version"])
        if migration is None:
            # A newer release migrated this ledger (a rolling deploy): migrations only add, so an
            # older process may still run against it; say so rather than refuse to start.
            log.warning(
                "the ledger has migration %s applied, which this release does not have: "
                "an older release is running against a newer ledger",
                row["name"],
            )
            continue
        if row["name"] != migration.name:
            raise MigrationError(
                f"migration {row['version']} was applied as {row['name']}.sql but this release "
                f"names it {migration.file}: applied migrations must not be renamed"
            )
        if row["checksum"] != migration.checksum:
            raise MigrationError(
                f"migration {migration.file} has changed since it was applied (checksum "
                f"{row['checksum'][:12]}… recorded, {migration.checksum[:12]}… now): applied "
                "migrations must not be edited; add a new numbered file instead"
            )
    return {row["version"] for row in rows}


async def _record(conn: Any, migration: Migration) -> None:
    await conn.execute(
        "INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)",
        migration.version,
        migration.name,
        migration.checksum,
    )
