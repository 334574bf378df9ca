"""Connecting to Temporal the same way everywhere (intake, workers, API, CLI, tests)."""

from __future__ import annotations

import asyncio

from temporalio.client import Client

from workers.settings import Settings


async def connect(settings: Settings, *, attempts: int = 1) -> Client:
    """Connect, retrying ``attempts`` times a second apart while the server starts."""
    for attempt in range(1, attempts + 1):
        try:
            return await Client.connect(settings.temporal_address, namespace=settings.temporal_namespace)
        except RuntimeError:
            if attempt == attempts:
                raise
            await asyncio.sleep(1)
    raise AssertionError("unreachable")
