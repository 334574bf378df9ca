"""The HTTP connector against the sandbox SaaS tools, in-process: each tenant's pack entry finds,
exports, erases and verifies through throttling, lagging searches and asynchronous purges."""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from infra.sandbox.saas import load_instances, start_saas
from orchestrator.policy.packs import load_packs
from workers.connectors.base import ConnectorError
from workers.connectors.http.client import HttpSystems
from workers.connectors.http.connector import HttpConnector
from workers.connectors.http.secrets import SecretStore
from workers.messages.requests import SystemStep, SystemTaskInput

ADA = {"email": "Ada@Example.org", "phone": "+2250700000001"}


class Tools:
    def __init__(self, sandbox: Path, secrets: Path) -> None:
        self.sandbox, self.secrets = sandbox, secrets
        self.packs = load_packs()
        self.http = HttpSystems(SecretStore(secrets))
        self.connector = HttpConnector(self.http)

    def task(self, tenant: str, system: str, request_type: str, **details: Any) -> SystemTaskInput:
        spec = self.packs[tenant].system(system)
        rule = spec["actions"][request_type]
        step = SystemStep(system, rule["action"], spec["connector"], rule)
        return SystemTaskInput("r-1", tenant, request_type, dict(ADA), "2026-01-01T00:00:00Z", step, details)

    def state(self, name: str) -> dict[str, Any]:
        state: dict[str, Any] = json.loads((self.sandbox / "saas" / name / "state.json").read_text())
        return state


@pytest.fixture
async def tools(tmp_path: Path) -> AsyncIterator[Tools]:
    sandbox, secrets = tmp_path / "sandbox", tmp_path / "secrets"
    runners = await start_saas(sandbox, secrets)
    found = Tools(sandbox, secrets)
    try:
        yield found
    finally:
        await found.http.close()
        for runner in runners:
            await runner.cleanup()


async def test_the_billing_customer_is_found_by_email_exported_with_invoices_and_erased(tools: Tools):
    result = await tools.connector.export(tools.task("jsm", "invoicing_tool", "access"))
    assert result.evidence == {"records_by_resource": {"customer": 1, "invoice": 3}}, (
        "3 invoices over 2 pages"
    )
    erasure = tools.task("jsm", "invoicing_tool", "erasure")
    assert await tools.connector.locate(erasure) == 1
    done = await tools.connector.erase(erasure)
    assert done.outcome == "erased" and done.evidence["verified"]["remaining"] == 0
    assert done.evidence["verified"]["checks"] > 1, "the search index lagged behind the delete"
    state = tools.state("jsm_invoicing")
    assert "cus_jsm_ada001" not in state["customers"]
    assert [i["customer"] for i in state["invoices"].values()].count("cus_jsm_ada001") == 3, "invoices kept"
    assert state["stats"]["throttled"] >= 1, "429s were answered and survived"
    again = await tools.connector.erase(erasure)
    assert again.outcome == "not_found"


async def test_the_mailing_member_is_keyed_by_md5_and_deleted_permanently_not_archived(tools: Tools):
    export = await tools.connector.export(tools.task("jsm", "email_marketing_tool", "access"))
    assert export.evidence["records_by_resource"] == {"member": 1, "note": 3}, "notes paged by offset"
    stop = await tools.connector.stop_processing(tools.task("jsm", "email_marketing_tool", "objection"))
    assert stop.outcome == "processing_stopped"
    key = "jsm-nieuwsbrief/" + hashlib.md5(b"ada@example.org").hexdigest()
    assert tools.state("jsm_mailing")["members"][key]["status"] == "unsubscribed"
    erased = await tools.connector.erase(tools.task("jsm", "email_marketing_tool", "erasure"))
    assert erased.outcome == "erased"
    state = tools.state("jsm_mailing")
    assert key not in state["members"] and not any(n["member"] == key for n in state["notes"].values())


async def test_the_support_user_goes_through_the_two_step_purge_job(tools: Tools):
    export = await tools.connector.export(tools.task("upjunoo", "support_desk", "access"))
    assert export.evidence["records_by_resource"] == {"user": 1, "ticket": 3}, "tickets paged by Link header"
    erased = await tools.connector.erase(tools.task("upjunoo", "support_desk", "erasure"))
    assert erased.outcome == "erased" and erased.evidence["jobs"] == {"completed": 1}
    state = tools.state("upjunoo_support")
    assert "9001" not in state["users"] and "9001" not in state["deleted_users"]
    assert all(t["requester_id"] != 9001 for t in state["tickets"].values())
    assert "ada@example.org" not in json.dumps(state["users"]) + json.dumps(state["deleted_users"])


async def test_credentials_are_references_checked_and_never_repeated(tools: Tools):
    token = (tools.secrets / "jsm_invoicing_token").read_text()
    result = await tools.connector.export(tools.task("jsm", "invoicing_tool", "access"))
    assert token not in json.dumps(result.evidence) + json.dumps(result.records)
    os.chmod(tools.secrets / "jsm_invoicing_token", 0o644)
    with pytest.raises(ConnectorError) as refused:
        await tools.connector.locate(tools.task("jsm", "invoicing_tool", "access"))
    assert "chmod 600" in str(refused.value) and not refused.value.retryable
    os.chmod(tools.secrets / "jsm_invoicing_token", 0o600)
    (tools.secrets / "jsm_invoicing_token").write_text("wrong-key")
    with pytest.raises(ConnectorError) as wrong:
        await tools.connector.locate(tools.task("jsm", "invoicing_tool", "access"))
    assert "credentials refused" in str(wrong.value) and "wrong-key" not in str(wrong.value)
    assert not wrong.value.retryable


def test_every_sandbox_tool_has_the_pack_entries_that_reference_it(tmp_path: Path):
    names = {i.name for i in load_instances(tmp_path)}
    referenced = {
        s["connector"]["base_url"].removeprefix("file:").removesuffix("_url")
        for pack in load_packs().values()
        for s in pack.systems
        if s["connector"]["kind"] == "http"
    }
    assert names == referenced


async def test_a_user_soft_deleted_by_an_interrupted_attempt_is_still_found_and_purged(tools: Tools):
    base = (tools.secrets / "upjunoo_support_url").read_text()
    token = (tools.secrets / "upjunoo_support_token").read_text()
    headers = {"Authorization": f"Bearer {token}"}
    async with aiohttp.ClientSession(headers=headers) as http:
        for _ in range(3):  # the tool throttles now and then
            async with http.delete(f"{base}/api/v2/users/9001") as reply:
                if reply.status == 200:
                    break
    assert "9001" in tools.state("upjunoo_support")["deleted_users"]
    erasure = tools.task("upjunoo", "support_desk", "erasure")
    assert await tools.connector.locate(erasure) == 1, "the deleted user still holds Ada's data"
    erased = await tools.connector.erase(erasure)
    assert erased.outcome == "erased" and erased.evidence["jobs"] == {"completed": 1}
    assert "9001" not in tools.state("upjunoo_support")["deleted_users"]


async def test_an_erasure_acts_on_what_its_count_found_without_searching_twice(
    tools: Tools, monkeypatch: pytest.MonkeyPatch
):
    """Every search is a call the API's rate limit counts: the count kept before acting is the
    lookup the erasure acts on; only the verification looks again."""
    erasure = tools.task("upjunoo", "support_desk", "erasure")
    lookups: list[str] = []
    find = tools.connector._find

    async def counted(task: SystemTaskInput) -> list[dict[str, Any]]:
        lookups.append(task.step.system)
        return await find(task)

    monkeypatch.setattr(tools.connector, "_find", counted)
    kept: list[int] = []

    async def keep_count(count: int) -> int:
        kept.append(count)
        return count

    located, done = await tools.connector.locate_then_perform(erasure, keep_count)
    assert located == kept[0] == 1 and done.outcome == "erased" and done.evidence["found"] == 1
    assert done.evidence["verified"]["remaining"] == 0
    assert len(lookups) == 1 + done.evidence["verified"]["checks"], "one lookup before acting, then checks"
    assert "9001" not in tools.state("upjunoo_support")["users"]
