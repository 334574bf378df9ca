"""Database pools give back what a burst opened, on the real PostgreSQL: a connection idle past
the pool's idle time is closed and its backend ends, the pool's floor stays. Requests wait weeks
on partners; each idle backend would hold 2-4 MB of the server all that time."""

from __future__ import annotations

import asyncio
import time

import asyncpg

from tests.integration.conftest import RunningStack
from workers.connectors.pools import DatabasePools
from workers.ledger.requests import Ledger

WIDTH = 4
IDLE = 0.5


async def _burst(pool: asyncpg.Pool) -> set[int]:
    """``WIDTH`` queries at once, each holding its connection a moment: the backends they used."""

    async def one() -> int:
        async with pool.acquire() as connection:
            backend = await connection.fetchval("SELECT pg_backend_pid()")
            await asyncio.sleep(0.2)
            return int(backend)

    return set(await asyncio.gather(*(one() for _ in range(WIDTH))))


async def _alive(stack: RunningStack, backends: set[int]) -> set[int]:
    rows = await stack.fetch(
        "postgres", "SELECT pid FROM pg_stat_activity WHERE pid = ANY($1::int[])", list(backends)
    )
    return {row["pid"] for row in rows}


async def _closes_to_floor(stack: RunningStack, backends: set[int], timeout: float = 15.0) -> set[int]:
    deadline = time.monotonic() + timeout
    alive = await _alive(stack, backends)
    while len(alive) > 1 and time.monotonic() < deadline:
        await asyncio.sleep(0.2)
        alive = await _alive(stack, backends)
    return alive


async def test_the_ledger_closes_the_connections_a_burst_opened_once_idle(stack: RunningStack) -> None:
    ledger = await Ledger.connect(stack.settings.pg_dsn(), max_size=WIDTH, idle_seconds=IDLE)
    try:
        backends = await _burst(ledger._pool)
        assert len(backends) == WIDTH
        assert await _alive(stack, backends) == backends  # open right after the burst
        assert len(await _closes_to_floor(stack, backends)) == 1  # the floor stays
        # and the pool still serves a burst, opening again what it needs
        assert len(await _burst(ledger._pool)) == WIDTH
    finally:
        await ledger.close()


async def test_a_downstream_database_pool_closes_its_idle_connections(stack: RunningStack) -> None:
    pools = DatabasePools(stack.settings.pg_dsn, max_size=WIDTH, idle_seconds=IDLE)
    try:
        backends = await _burst(await pools.get(stack.settings.pg_database))
        assert len(backends) == WIDTH
        assert len(await _closes_to_floor(stack, backends)) == 1
    finally:
        await pools.close()


async def test_by_default_connections_outlive_the_gaps_of_a_busy_service(stack: RunningStack) -> None:
    """The default idle time is seconds, not milliseconds: between one activity and the next a
    busy worker finds its connections still open (no new backend, no lost statement cache)."""
    ledger = await Ledger.connect(stack.settings.pg_dsn(), max_size=WIDTH)
    try:
        first = await _burst(ledger._pool)
        await asyncio.sleep(1.0)
        assert await _burst(ledger._pool) == first
    finally:
        await ledger.close()
