"""One real embedded stack per test session: PostgreSQL, Tansu, the Temporal dev server, and
our services as separate processes, all on free loopback ports in a temporary state folder."""

from __future__ import annotations

import asyncio
import json
import os
import time
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
import pytest
from aiokafka import AIOKafkaConsumer
from temporalio.client import Client

from infra.bootstrap import ensure_database
from infra.launch import launch, shut_down
from infra.processes import ProcessSupervisor
from infra.sandbox.seed import seed_all
from orchestrator.cli.demo import publish, wait_closed
from orchestrator.workflows.search import REGISTRATION
from workers.ledger import Ledger
from workers.runtime.codec import codec_from_environment
from workers.runtime.settings import Settings
from workers.runtime.temporal_client import connect

ADA = {"email": "ada@example.org", "phone": "+2250700000001", "customer_id": "C-ADA-001"}
TEST_PACKS = Path(__file__).resolve().parent / "packs"


# One API token per role; the token's name (e.g. dpo@test) is the actor the audit log records.
TOKENS = {role: f"test-token-for-the-{role}-role" for role in ("viewer", "operator", "dpo")}


def traces_dir(factory: pytest.TempPathFactory) -> Path:
    """Where our services write their spans (PRIVACY_OTEL_EXPORTER=jsonl:...) in a test session."""
    return factory.getbasetemp() / "traces"


async def _seed_test_tenant(settings: Settings) -> None:
    await ensure_database(settings, "sandbox_testco_crm")
    conn = await asyncpg.connect(settings.pg_dsn("sandbox_testco_crm"))
    try:
        await conn.execute((TEST_PACKS / "sandbox_testco_crm.sql").read_text())
    finally:
        await conn.close()


def rights_request(request_type: str, subject: dict[str, str] | None = None, **change: Any) -> dict[str, Any]:
    value = {
        "request_id": str(uuid.uuid4()),
        "tenant": "upjunoo",
        "type": request_type,
        "subject": subject or ADA,
        "jurisdiction": "CI",
        "submitted_at": datetime.now(UTC).isoformat(),
    }
    value.update(change)
    return value


@dataclass
class RunningStack:
    settings: Settings
    ledger: Ledger
    client: Client
    supervisor: ProcessSupervisor

    async def publish(self, *values: dict[str, Any] | bytes, topic: str | None = None) -> None:
        if topic is None:
            await publish(self.settings, list(values))
        else:
            await publish(self.settings, list(values), topic=topic)

    async def closed(self, request_id: str, timeout: float = 120) -> dict[str, Any]:
        views = await wait_closed(self.ledger, [request_id], timeout, progress=False)
        view = views.get(request_id)
        assert view is not None, f"request {request_id} never reached the ledger"
        assert view["status"] == "completed", f"request {request_id} did not close: {view}"
        return view

    async def db(self, database: str) -> asyncpg.Connection:
        return await asyncpg.connect(self.settings.pg_dsn(database))

    async def reseed(self) -> None:
        await seed_all(self.settings)
        await _seed_test_tenant(self.settings)

    async def wait_status(
        self,
        request_id: str,
        status: str,
        flag: str | None = None,
        reason: str | None = None,
        timeout: float = 60,
    ) -> dict[str, Any]:
        """Wait until the ledger shows ``status`` (and ``flag``, and ``reason`` text, if given)."""
        deadline = time.monotonic() + timeout
        view = None
        while time.monotonic() < deadline:
            view = await self.ledger.request(request_id)
            if (
                view
                and view["status"] == status
                and (flag is None or flag in view["flags"])
                and (reason is None or reason in (view["reason"] or ""))
            ):
                return view
            await asyncio.sleep(0.2)
        raise AssertionError(f"request {request_id} never reached {status}/{flag}/{reason}: {view}")

    async def api(
        self, method: str, path: str, body: dict[str, Any] | None = None, role: str | None = "dpo"
    ) -> tuple[int, dict[str, Any]]:
        """Call our API as the test holder of ``role`` (None: without a token)."""
        headers = {"Authorization": f"Bearer {TOKENS[role]}"} if role else {}
        async with (
            aiohttp.ClientSession() as http,
            http.request(method, self.settings.api_url + path, json=body, headers=headers) as response,
        ):
            return response.status, await response.json()

    async def fetch(self, database: str, sql: str, *args: Any) -> list[dict[str, Any]]:
        conn = await self.db(database)
        try:
            return [dict(r) for r in await conn.fetch(sql, *args)]
        finally:
            await conn.close()

    async def read_topic(
        self, topic: str, match: Callable[[dict[str, Any]], bool], want: int = 1, timeout: float = 30
    ) -> list[dict[str, Any]]:
        """Values on ``topic`` (from the beginning) for which ``match`` holds; waits for ``want``."""
        consumer = AIOKafkaConsumer(
            topic,
            bootstrap_servers=self.settings.kafka_bootstrap,
            group_id=f"test-{uuid.uuid4()}",
            auto_offset_reset="earliest",
            enable_auto_commit=False,
        )
        await consumer.start()
        found: list[dict[str, Any]] = []
        deadline = time.monotonic() + timeout
        try:
            while time.monotonic() < deadline and len(found) < want:
                batch = await consumer.getmany(timeout_ms=500)
                for messages in batch.values():
                    for message in messages:
                        try:  # input topics also hold the poison other tests sent
                            value = json.loads(message.value)
                        except (ValueError, RecursionError):
                            continue
                        if isinstance(value, dict) and match(value):
                            found.append(value)
            return found
        finally:
            await consumer.stop()


@pytest.fixture(scope="session")
async def stack(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[RunningStack]:
    os.environ["PRIVACY_PACKS_DIR"] = str(TEST_PACKS)
    os.environ["PRIVACY_API_TOKENS"] = ",".join(f"{t}:{r}@test:{r}" for r, t in TOKENS.items())
    os.environ["PRIVACY_OTEL_EXPORTER"] = f"jsonl:{traces_dir(tmp_path_factory)}"
    os.environ["PRIVACY_OTEL_METRICS_SECONDS"] = "1"
    os.environ["PRIVACY_SANDBOX_PARTNER_DELAY"] = "4"  # the slow partner: seconds, not the demo's 20
    # DRP: the businesses we are (configuration) and the agents we trust (written by the DRP tests).
    os.environ["PRIVACY_DRP_BUSINESSES"] = str(Path(__file__).resolve().parent / "drp_businesses.json")
    os.environ["PRIVACY_DRP_AGENTS"] = str(tmp_path_factory.getbasetemp() / "drp-agents.json")
    os.environ["PRIVACY_DRP_NOTIFY_SECONDS"] = "0.3"
    settings, infra = await launch(tmp_path_factory.mktemp("privacy-state"), REGISTRATION)
    try:
        await _seed_test_tenant(settings)
        ledger = await Ledger.connect(settings.pg_dsn(), sealer=codec_from_environment(settings.state_dir))
        client = await connect(settings, attempts=30)
        yield RunningStack(settings, ledger, client, ProcessSupervisor(settings.state_dir))
        await ledger.close()
    finally:
        await shut_down(settings, infra)
