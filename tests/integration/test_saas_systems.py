"""SaaS tools over HTTP, through the whole stack: a request's workflow reaches the sandbox's
billing tool, mailing tools and support desk, finds the person by e-mail, erases and verifies
through 429s, lagging searches and an asynchronous purge; the tools' stored data is read as an
auditor would; and their API keys appear nowhere but in the secrets folder."""

from __future__ import annotations

import asyncio
import hashlib
import json
from typing import Any

from tests.integration.conftest import RunningStack, rights_request

ADA_TRACES = ("ada@example.org", "Lovelace", "+2250700000001")
TOOLS = ("jsm_invoicing", "jsm_mailing", "jump_mailing", "upjunoo_support")


def _state(stack: RunningStack, tool: str) -> dict[str, Any]:
    state: dict[str, Any] = json.loads(
        (stack.settings.sandbox_dir / "saas" / tool / "state.json").read_text()
    )
    return state


def _systems(view: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {s["system"]: s for s in view["systems"]}


async def _confirm_by_hand(stack: RunningStack, request_id: str, system: str) -> None:
    """Act as the operator for a processor told by letter, once the workflow asks."""
    for _ in range(300):
        view = await stack.ledger.request(request_id)
        if view and _systems(view).get(system, {}).get("outcome") == "pending":
            break
        await asyncio.sleep(0.2)
    status, _ = await stack.api(
        "POST", f"/v1/requests/{request_id}/systems/{system}/confirmation",
        {"outcome": "notified", "reason": "letter sent"},
    )  # fmt: skip
    assert status == 200


async def test_jsm_erasure_deletes_the_customer_and_the_member_and_keeps_the_invoices(stack: RunningStack):
    await stack.reseed()
    request = rights_request("erasure", tenant="jsm", jurisdiction="BE")
    await stack.publish(request)
    await _confirm_by_hand(stack, request["request_id"], "notify-direct-mail-processor")
    systems = _systems(await stack.closed(request["request_id"], timeout=180))

    for name in ("invoicing_tool", "email_marketing_tool"):
        assert systems[name]["outcome"] == "erased", systems[name]
        assert systems[name]["evidence"]["found"] == 1
        assert systems[name]["evidence"]["verified"]["remaining"] == 0, "looked up again: nothing left"
    billing, mailing = _state(stack, "jsm_invoicing"), _state(stack, "jsm_mailing")
    kept = json.dumps({"customers": billing["customers"], "deleted": billing["deleted"]}) + json.dumps(
        mailing
    )
    assert not any(trace in kept for trace in ADA_TRACES), "the auditor finds Ada nowhere"
    assert "cus_jsm_pieter002" in billing["customers"], "only Ada is erased"
    invoices = [i for i in billing["invoices"].values() if i["customer"] == "cus_jsm_ada001"]
    assert len(invoices) == 3, "invoices stay with the billing tool, pointing at the deleted customer"
    assert billing["stats"]["throttled"] and mailing["stats"]["throttled"], "429s were answered and survived"


async def test_upjunoo_support_desk_exports_the_tickets_then_purges_the_user_by_an_async_job(
    stack: RunningStack,
):
    await stack.reseed()
    access = rights_request("access")
    await stack.publish(access)
    await stack.closed(access["request_id"])
    status, report = await stack.api("GET", f"/v1/requests/{access['request_id']}/report")
    assert status == 200
    desk = report["systems"]["support_desk"]
    resources = [r["resource"] for r in desk["records"]]
    assert resources.count("user") == 1 and resources.count("ticket") == 3, "tickets over two linked pages"

    erasure = rights_request("erasure")
    await stack.publish(erasure)
    outcome = _systems(await stack.closed(erasure["request_id"], timeout=180))["support_desk"]
    assert outcome["outcome"] == "erased"
    assert outcome["evidence"]["jobs"] == {"completed": 1}, (
        "the permanent deletion job was followed to its end"
    )
    state = _state(stack, "upjunoo_support")
    assert "9001" not in state["users"] and "9001" not in state["deleted_users"]
    assert not any(t["requester_id"] == 9001 for t in state["tickets"].values())
    assert sum(1 for t in state["tickets"].values() if t["requester_id"] is None) == 3, (
        "tickets kept, unlinked"
    )
    assert not any(trace in json.dumps(state) for trace in ADA_TRACES)
    assert state["stats"]["throttled"]


async def test_jump_newsletter_objection_unsubscribes_the_member_keyed_by_email_hash(stack: RunningStack):
    await stack.reseed()
    newsletter = {"purposes": ["marketing.communications.email"]}
    request = rights_request("objection", tenant="jump", jurisdiction="BE", details=newsletter)
    await stack.publish(request)
    assert (
        _systems(await stack.closed(request["request_id"]))["mailing_tool"]["outcome"] == "processing_stopped"
    )
    key = "jump-newsletter/" + hashlib.md5(b"ada@example.org").hexdigest()
    assert _state(stack, "jump_mailing")["members"][key]["status"] == "unsubscribed"


async def test_api_keys_never_reach_the_ledger_the_history_the_logs_or_the_traces(stack: RunningStack):
    await stack.reseed()
    request = rights_request("access", tenant="jsm", jurisdiction="BE")
    await stack.publish(request)
    await stack.closed(request["request_id"])
    secrets_dir = stack.settings.secrets_dir
    keys = [(secrets_dir / f"{tool}_token").read_text().strip() for tool in TOOLS]
    assert all(len(k) > 20 for k in keys)
    assert all(((secrets_dir / f"{tool}_token").stat().st_mode & 0o077) == 0 for tool in TOOLS)

    found: list[str] = []
    conn = await stack.db(stack.settings.pg_database)
    try:
        tables = await conn.fetch("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        for table in tables:
            rows = await conn.fetch(f'SELECT row_to_json(t)::text AS r FROM "{table["tablename"]}" t')
            found += [f"ledger:{table['tablename']}" for r in rows if any(k in r["r"] for k in keys)]
    finally:
        await conn.close()
    for path in [
        *stack.settings.log_dir.rglob("*"),
        *(stack.settings.state_dir.parent / "traces").rglob("*"),
    ]:
        if path.is_file() and any(k in path.read_text(errors="replace") for k in keys):
            found.append(str(path))
    # Systems answering in the call are acted on by the request's own workflow: its history holds
    # their tasks and answers (issue 13).
    handle = stack.client.get_workflow_handle(f"privacy-request-{request['request_id']}")
    history = await handle.fetch_history()
    acted: set[str] = set()
    tools = {"invoicing_tool", "email_marketing_tool"}
    for event in history.events:
        for attributes, field in (
            (event.workflow_execution_started_event_attributes, "input"),
            (event.activity_task_scheduled_event_attributes, "input"),
            (event.activity_task_completed_event_attributes, "result"),
        ):
            payloads = getattr(attributes, field).payloads
            if payloads:
                decoded = json.dumps(await stack.client.data_converter.decode(payloads), default=str)
                found += [f"temporal:{event.event_id}" for k in keys if k in decoded]
                acted |= {system for system in tools if system in decoded}
    assert acted == tools, "their tasks are in the request's history"
    assert found == [], f"an API key leaked into {found}"
