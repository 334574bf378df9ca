"""A rights request from Kafka to closed, with evidence, on the real embedded stack."""

from __future__ import annotations

import asyncio
import json

import aiohttp

from infra.services import start_service
from schemas import CONFIRMATIONS_TOPIC, DLQ_TOPIC, REQUEST_EVENTS_TOPIC
from tests.integration.conftest import TOKENS, RunningStack, rights_request

# Art. 19: erasure is told to UPJUNOO's country partners (over OpenDSR: each confirms it erased,
# by a signed callback) and to its ad partners (over Kafka: they acknowledge).
TOLD_PARTNERS = {
    **dict.fromkeys(("notify-partner-ci", "notify-partner-cd", "notify-partner-ca"), "erased"),
    "notify-ad-partners": "notified",
}


async def _ada_rows(stack: RunningStack) -> dict[str, int]:
    counts = {}
    for database, sql in (
        ("sandbox_upjunoo_crm", "SELECT count(*) FROM customers WHERE email = 'ada@example.org'"),
        ("sandbox_upjunoo_crm", "SELECT count(*) FROM addresses WHERE customer_id = 'C-ADA-001'"),
        ("sandbox_upjunoo_recordings", "SELECT count(*) FROM recordings WHERE customer_id = 'C-ADA-001'"),
        ("sandbox_upjunoo_support", "SELECT count(*) FROM tickets WHERE requester_email = 'ada@example.org'"),
        ("sandbox_upjunoo_marketing", "SELECT count(*) FROM contacts WHERE email = 'ada@example.org'"),
        ("sandbox_upjunoo_app", "SELECT count(*) FROM locations WHERE customer_id = 'C-ADA-001'"),
        ("sandbox_upjunoo_app", "SELECT count(*) FROM sos_contacts WHERE customer_id = 'C-ADA-001'"),
        ("sandbox_upjunoo_app", "SELECT count(*) FROM photos WHERE customer_id = 'C-ADA-001'"),
        ("sandbox_upjunoo_app", "SELECT count(*) FROM devices WHERE customer_id = 'C-ADA-001'"),
    ):
        conn = await stack.db(database)
        try:
            counts[f"{database}:{sql.split('FROM ')[1].split()[0]}"] = await conn.fetchval(sql)
        finally:
            await conn.close()
    return counts


def _recordings(stack: RunningStack) -> list[str]:
    folder = stack.settings.sandbox_dir / "upjunoo" / "recordings"
    return sorted(p.name for p in folder.glob("ada-*.wav"))


async def test_erasure_of_ada_closes_with_evidence_in_every_system(stack: RunningStack):
    await stack.reseed()
    assert all(await _ada_rows(stack)), "the sandbox must hold Ada everywhere before the test"
    assert _recordings(stack) == ["ada-driver-0001.wav", "ada-support-0001.wav"]

    request = rights_request("erasure")
    await stack.publish(request)
    view = await stack.closed(request["request_id"])

    outcomes = {s["system"]: s for s in view["systems"]}
    assert {name: s["outcome"] for name, s in outcomes.items()} == {
        "crm": "erased",
        "billing": "retained",
        "call_recordings": "erased",
        "support_conversations": "anonymised",
        "marketing_list": "erased",
        "support_desk": "erased",
        "orders": "retained",
        "device_data": "erased",
        **TOLD_PARTNERS,
    }
    assert all(s["confirmed_at"] for s in view["systems"])
    billing = outcomes["billing"]
    assert billing["legal_basis"].startswith("legal obligation")
    assert billing["retained_until"].startswith(str(int(view["submitted_at"][:4]) + 10))
    assert outcomes["call_recordings"]["evidence"]["files_deleted"] == 2
    assert outcomes["call_recordings"]["evidence"]["rows_deleted"] == 2

    assert await _ada_rows(stack) == dict.fromkeys(await _ada_rows(stack), 0)
    assert _recordings(stack) == []
    conn = await stack.db("sandbox_upjunoo_billing")
    try:
        invoices = await conn.fetch("SELECT * FROM invoices WHERE customer_id = 'C-ADA-001'")
    finally:
        await conn.close()
    assert len(invoices) == 2, "invoices are kept for the legal accounting period"
    assert all(
        r["restricted"] and r["billing_phone"] is None and r["delivery_note"] is None for r in invoices
    )
    conn = await stack.db("sandbox_upjunoo_support")
    try:
        tickets = await conn.fetch("SELECT * FROM tickets WHERE ticket_id IN ('T-1001', 'T-1002')")
    finally:
        await conn.close()
    assert len(tickets) == 2 and all(t["requester_email"] is None and t["body"] is None for t in tickets)

    events = await stack.read_topic(
        REQUEST_EVENTS_TOPIC,
        lambda e: e["request_id"] == request["request_id"],
        want=8,
    )
    kinds = {(e["kind"], e.get("status") or e.get("outcome")) for e in events}
    assert ("request_status", "in_progress") in kinds
    assert ("request_status", "completed") in kinds
    assert ("system_outcome", "retained") in kinds
    assert not any("ada@example.org" in json.dumps(e) for e in events), "request events carry no PII"


async def test_access_report_lists_ada_in_every_system(stack: RunningStack):
    await stack.reseed()
    request = rights_request("access")
    await stack.publish(request)
    view = await stack.closed(request["request_id"])
    assert {s["outcome"] for s in view["systems"]} == {"exported"}

    async with aiohttp.ClientSession(headers={"Authorization": f"Bearer {TOKENS['dpo']}"}) as http:
        url = f"{stack.settings.api_url}/v1/requests/{request['request_id']}"
        async with http.get(url) as response:
            assert response.status == 200
            body = await response.json()
            assert body["status"] == "completed" and body["due_at"]
            assert {"system", "action", "outcome", "confirmed_at"} <= set(body["systems"][0])
        async with http.get(url + "/report") as response:
            assert response.status == 200
            report = await response.json()
        async with http.get(url + "/report?format=html") as response:
            html = await response.text()
    systems = report["systems"]
    assert set(systems) == {
        "crm", "billing", "call_recordings", "support_conversations", "marketing_list",
        "support_desk", "orders", "device_data",
    }  # fmt: skip
    for name, system in systems.items():
        assert system["record_count"] > 0, f"{name} should list Ada's records"
        assert system["categories"] and system["purposes"]
    assert any(r.get("email") == "ada@example.org" for r in systems["crm"]["records"])
    assert any(r.get("advertising_id") for r in systems["marketing_list"]["records"])
    assert "Ada Lovelace" in html and "<h2>call_recordings</h2>" in html


async def test_the_same_event_three_times_makes_one_request_and_one_run(stack: RunningStack):
    await stack.reseed()
    request = rights_request("access", {"email": "chloe@example.org"}, jurisdiction="CA")
    await stack.publish(request, request, request)
    view = await stack.closed(request["request_id"])
    await stack.publish(request)  # a re-publication after it closed changes nothing either

    workflow_id = f"privacy-request-{request['request_id']}"
    runs = [w async for w in stack.client.list_workflows(f"WorkflowId = '{workflow_id}'")]
    assert len(runs) == 1
    children = [
        w async for w in stack.client.list_workflows(f"WorkflowId STARTS_WITH '{workflow_id}/system/'")
    ]
    # A workflow of its own for each system that answers later (the marketing tool confirms on
    # Kafka); the others are acted on by the request's workflow (issue 13).
    assert [w.id for w in children] == [f"{workflow_id}/system/marketing_list"]
    listed = await stack.ledger.lookups.list_requests(limit=500)
    assert [r["request_id"] for r in listed].count(request["request_id"]) == 1
    assert all(s["attempts"] == 1 for s in view["systems"]), "no system was asked twice"


async def test_bad_input_goes_to_the_dlq_and_the_stream_goes_on(stack: RunningStack):
    marker = rights_request("access")["request_id"]
    malformed = b'{"request_id": "' + marker.encode() + b'", oops'
    invalid = rights_request("forget-everything", request_id=marker)
    unknown_tenant = rights_request("access", tenant="no-such-controller")
    impossible_date = rights_request("access", submitted_at="2026-13-45T10:00:00Z")
    good = rights_request("access", {"email": "chloe@example.org"})
    await stack.publish(malformed, invalid, unknown_tenant, impossible_date, good)
    await stack.closed(good["request_id"])

    ids = (marker, unknown_tenant["request_id"], impossible_date["request_id"])
    rejected = await stack.read_topic(DLQ_TOPIC, lambda r: any(i in r["raw"] for i in ids), want=4)
    reasons = sorted(r["reason"] for r in rejected)
    assert reasons == ["malformed_json", "schema_violation", "schema_violation", "unknown_tenant"]
    errors = sorted(r["error"].split(":")[0] for r in rejected if r["reason"] == "schema_violation")
    assert errors == ["submitted_at", "type"]
    assert await stack.ledger.request(unknown_tenant["request_id"]) is None


async def test_a_confirmation_for_an_unknown_request_is_rejected(stack: RunningStack):
    stray = {
        "request_id": "00000000-0000-4000-8000-000000000001",
        "system": "marketing_list",
        "outcome": "erased",
        "at": "2026-11-23T10:00:00Z",
    }
    await stack.publish(stray, topic=CONFIRMATIONS_TOPIC)
    rejected = await stack.read_topic(
        DLQ_TOPIC, lambda r: r["source_topic"] == CONFIRMATIONS_TOPIC and stray["request_id"] in r["raw"]
    )
    assert rejected and rejected[0]["reason"] == "unknown_request"


async def test_a_killed_worker_does_not_lose_or_repeat_an_erasure(stack: RunningStack):
    await stack.reseed()
    request = rights_request("erasure")
    await stack.publish(request)
    # Kill the worker (SIGKILL, as a crash) as soon as the fan-out has begun.
    for _ in range(400):
        view = await stack.ledger.request(request["request_id"])
        if view and view["systems"]:
            break
        await asyncio.sleep(0.025)
    stack.supervisor.kill("worker")
    start_service(stack.settings, "worker")

    view = await stack.closed(request["request_id"], timeout=180)
    outcomes = {s["system"]: s["outcome"] for s in view["systems"]}
    assert outcomes == {
        "crm": "erased",
        "billing": "retained",
        "call_recordings": "erased",
        "support_conversations": "anonymised",
        "marketing_list": "erased",
        "support_desk": "erased",
        "orders": "retained",
        "device_data": "erased",
        **TOLD_PARTNERS,
    }
    assert await _ada_rows(stack) == dict.fromkeys(await _ada_rows(stack), 0)
    assert _recordings(stack) == []


async def test_the_api_answers_unknown_and_malformed_ids_with_a_message(stack: RunningStack):
    async with aiohttp.ClientSession(headers={"Authorization": f"Bearer {TOKENS['dpo']}"}) as http:
        async with http.get(
            f"{stack.settings.api_url}/v1/requests/00000000-0000-4000-8000-00000000abcd"
        ) as r:
            assert r.status == 404
            assert "no request" in (await r.json())["error"]
        async with http.get(f"{stack.settings.api_url}/v1/requests/not-a-uuid/report") as r:
            assert r.status == 400
            assert "not a UUID" in (await r.json())["error"]


async def test_temporal_history_holds_ciphertext_not_the_subjects_email(stack: RunningStack):
    from temporalio.client import Client

    await stack.reseed()
    request = rights_request("access")
    await stack.publish(request)
    await stack.closed(request["request_id"])
    workflow_id = f"privacy-request-{request['request_id']}"
    # A client without our codec sees what the server stores.
    raw_client = await Client.connect(stack.settings.temporal_address)
    for wid in (workflow_id, f"{workflow_id}/system/marketing_list"):
        history = await raw_client.get_workflow_handle(wid).fetch_history()
        stored = history.to_json()
        assert "ada@example.org" not in stored and "C-ADA-001" not in stored
        assert "binary/encrypted" in stored or "YmluYXJ5L2VuY3J5cHRlZA" in stored
    # With the codec the same input decodes to the subject's identities.
    described = await stack.client.get_workflow_handle(workflow_id).fetch_history()
    first = described.events[0].workflow_execution_started_event_attributes.input.payloads
    decoded = await stack.client.data_converter.decode(first)
    assert decoded[0]["subject"]["email"] == "ada@example.org"
