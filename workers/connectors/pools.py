"""One asyncpg pool per downstream database, opened on first use."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import asyncpg

from workers.ledger.requests import POOL_IDLE_SECONDS, keep_session


class DatabasePools:
    def __init__(
        self, dsn_for: Callable[[str], str], *, max_size: int = 5, idle_seconds: float = POOL_IDLE_SECONDS
    ) -> None:
        self._dsn_for = dsn_for
        self._max_size = max_size
        self._idle_seconds = idle_seconds
        self._pools: dict[str, asyncpg.Pool] = {}
        self._lock = asyncio.Lock()

    async def get(self, database: str) -> asyncpg.Pool:
        pool = self._pools.get(database)
        if pool is not None:
            return pool
        async with self._lock:
            if database not in self._pools:
                self._pools[database] = await asyncpg.create_pool(
                    self._dsn_for(database),
                    min_size=1,
                    max_size=self._max_size,
                    max_inactive_connection_lifetime=self._idle_seconds,
                    reset=keep_session,
                )
            return self._pools[database]

    async def close(self) -> None:
        for pool in self._pools.values():
            await pool.close()
        self._pools.clear()
