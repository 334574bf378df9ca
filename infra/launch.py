"""A whole embedded stack on free loopback ports in its own state folder, for tests, benchmarks
and fault runs: servers, database, topics, sandbox data, and our services as processes."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

from infra.bootstrap import ensure_database, ensure_topics, register_sandbox_partners
from infra.processes import free_port
from infra.sandbox.seed import seed_all
from infra.services import SERVICES, start_services, stop_services
from infra.stack import Stack
from workers.runtime.settings import Settings

PORT_VARIABLES = (
    "PRIVACY_PG_PORT",
    "PRIVACY_KAFKA_PORT",
    "PRIVACY_TEMPORAL_PORT",
    "PRIVACY_TEMPORAL_UI_PORT",
    "PRIVACY_API_PORT",
)


async def launch(state_dir: Path, search_attributes: dict[str, str]) -> tuple[Settings, Stack]:
    """Start everything; the PRIVACY_* variables set here are inherited by our service processes."""
    os.environ["PRIVACY_STATE_DIR"] = str(state_dir)
    os.environ.pop("PRIVACY_SANDBOX_DIR", None)
    for name in PORT_VARIABLES:
        os.environ[name] = str(free_port())
    settings = Settings()
    stack = Stack(settings, search_attributes)
    try:
        await asyncio.to_thread(stack.up)
        await ensure_database(settings, settings.pg_database)
        await ensure_topics(settings)
        await seed_all(settings)
        await asyncio.to_thread(start_services, settings)
        await register_sandbox_partners(settings)
    except BaseException:
        await shut_down(settings, stack)  # leave nothing half-started behind
        raise
    return settings, stack


async def shut_down(settings: Settings, stack: Stack) -> None:
    await asyncio.to_thread(stop_services, settings, SERVICES)
    await asyncio.to_thread(stack.down)
