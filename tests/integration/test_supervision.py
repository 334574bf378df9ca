"""The dev stack supervises what it starts: PostgreSQL, the broker and the Temporal dev server,
killed with SIGKILL, are restarted by their keepers, ready again (a query answered, the namespace
described, the contract's topics back on the broker), reported by ``privacyctl status``; and
our services recover with them: a request published afterwards still closes."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from typing import Any

import pytest
from aiokafka.admin import AIOKafkaAdminClient

from infra.keeper import KeeperStatus
from infra.readiness import broker_ready, postgres_ready, temporal_ready
from schemas.contract import ALL_TOPICS
from tests.integration.conftest import RunningStack, rights_request


def _ready(stack: RunningStack, server: str) -> bool:
    s = stack.settings
    if server == "postgres":
        return postgres_ready(s.pg_host, s.pg_port, s.pg_user)
    if server == "broker":
        return broker_ready(s.kafka_bootstrap)
    return temporal_ready(s.temporal_address, s.temporal_namespace)


async def _restarted(
    stack: RunningStack, server: str, crashed: KeeperStatus, timeout: float = 120
) -> KeeperStatus:
    deadline = time.monotonic() + timeout
    while True:
        now = stack.supervisor.keeper_status(server)
        if now and now.state == "running" and now.restarts == crashed.restarts + 1 and now.pid != crashed.pid:
            return now
        assert time.monotonic() < deadline, f"{server} was not back up in {timeout:.0f}s: {now}"
        await asyncio.sleep(0.2)


async def _topics(stack: RunningStack) -> set[str]:
    admin = AIOKafkaAdminClient(bootstrap_servers=stack.settings.kafka_bootstrap)
    await admin.start()
    try:
        return set(await admin.list_topics())
    finally:
        await admin.close()


async def _status_line(server: str) -> str:
    status = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "orchestrator.cli.main", "status"],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": "."},
    )
    return next(line for line in status.stdout.splitlines() if line.strip().startswith(server))


@pytest.mark.parametrize("server", ["postgres", "broker", "temporal"])
async def test_a_killed_server_of_the_stack_comes_back_ready_is_reported_and_requests_still_close(
    stack: RunningStack, server: str
):
    crashed = stack.supervisor.keeper_status(server)
    assert crashed is not None and crashed.state == "running" and crashed.pid, f"{server} has no keeper"

    os.kill(crashed.pid, signal.SIGKILL)  # the server itself dies, as in an OOM kill

    restarted = await _restarted(stack, server, crashed)
    assert restarted.last_exit == -signal.SIGKILL
    assert await asyncio.to_thread(_ready, stack, server)
    if server == "broker":  # in-memory storage: the keeper's recovery gave the topics back
        assert set(ALL_TOPICS) <= await _topics(stack)
    line = await _status_line(server)
    assert "running" in line and f"{restarted.restarts} restart(s)" in line, line
    assert f"last exit {-signal.SIGKILL}" in line, line

    request: dict[str, Any] = rights_request("access", {"email": f"after-{server}@example.org"})
    await stack.publish(request)
    await stack.wait_status(request["request_id"], "completed", timeout=180)
