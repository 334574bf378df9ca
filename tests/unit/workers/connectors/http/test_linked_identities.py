"""A SaaS tool is searched by every identifier of the person: those given, and those identity
resolution linked (here the support desk, which can only search by e-mail and phone, reached
for a request that gave a customer id)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from infra.sandbox.saas import start_saas
from orchestrator.policy.packs import load_packs
from workers.connectors.http.client import HttpSystems
from workers.connectors.http.connector import HttpConnector
from workers.connectors.http.secrets import SecretStore
from workers.messages.requests import SystemStep, SystemTaskInput


@pytest.fixture
async def connector(tmp_path: Path) -> AsyncIterator[HttpConnector]:
    runners = await start_saas(tmp_path / "sandbox", tmp_path / "secrets")
    http = HttpSystems(SecretStore(tmp_path / "secrets"))
    try:
        yield HttpConnector(http)
    finally:
        await http.close()
        for runner in runners:
            await runner.cleanup()


def _task(linked: dict[str, list[str]]) -> SystemTaskInput:
    spec = load_packs()["upjunoo"].system("support_desk")
    step = SystemStep("support_desk", "export", spec["connector"], spec["actions"]["access"])
    subject = {"customer_id": "C-BRU-002"}
    return SystemTaskInput("r-1", "upjunoo", "access", subject, "2026-01-01T00:00:00Z", step, linked=linked)


async def test_the_desk_finds_the_person_by_the_identifiers_resolution_linked(connector: HttpConnector):
    assert await connector.locate(_task({})) == 0, "a customer id alone: the desk cannot search by it"
    linked = {"email": ["bruno@example.org"], "phone": ["+2430810000002"]}
    assert await connector.locate(_task(linked)) == 1, "found by e-mail and by phone: one user"
