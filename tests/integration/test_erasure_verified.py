"""Complete and exact, on the real stack: a request learns every identifier the tenant holds for
the person before it fans out, erases by all of them, proves it by looking again, and keeps a
system open while anything of the person is left. The evidence names identifier kinds, never
the identifiers."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import aiohttp

from tests.integration.conftest import TOKENS, RunningStack, rights_request

BRUNO = {"email": "bruno@example.org"}
BRUNO_IDENTIFIERS = ("bruno@example.org", "C-BRU-002", "2430810000002", "Bruno Kabila")


async def _bruno_left(stack: RunningStack) -> dict[str, int]:
    """Bruno's rows in every UPJUNOO system that does not keep them with a legal basis."""
    counts = {}
    for database, table, sql in (
        (
            "sandbox_upjunoo_crm",
            "customers",
            "SELECT count(*) FROM customers WHERE customer_id = 'C-BRU-002'",
        ),
        (
            "sandbox_upjunoo_crm",
            "addresses",
            "SELECT count(*) FROM addresses WHERE customer_id = 'C-BRU-002'",
        ),
        (
            "sandbox_upjunoo_recordings",
            "recordings",
            "SELECT count(*) FROM recordings"
            " WHERE customer_id = 'C-BRU-002' OR caller_phone = '+2430810000002'",
        ),
        (
            "sandbox_upjunoo_support",
            "tickets",
            "SELECT count(*) FROM tickets WHERE customer_id = 'C-BRU-002'"
            " OR requester_phone = '+2430810000002' OR requester_email = 'bruno@example.org'",
        ),
    ):
        counts[table] = (await stack.fetch(database, sql))[0]["count"]
    return counts


def _bruno_recording(stack: RunningStack) -> bool:
    return (stack.settings.sandbox_dir / "upjunoo" / "recordings" / "bruno-courier-0001.wav").exists()


async def test_erasure_by_email_only_finds_and_erases_what_is_held_by_customer_id_and_phone(
    stack: RunningStack,
) -> None:
    await stack.reseed()
    assert all((await _bruno_left(stack)).values()), "the sandbox must hold Bruno everywhere first"
    assert _bruno_recording(stack)
    # The marketing tool (asynchronous, on Kafka) knows him by his phone number only.
    conn = await stack.db("sandbox_upjunoo_marketing")
    try:
        await conn.execute(
            "INSERT INTO contacts (contact_id, phone, purposes, opted_in_at)"
            " VALUES ('M-BRU-T', '+2430810000002', ARRAY['marketing'], now()) ON CONFLICT DO NOTHING"
        )
    finally:
        await conn.close()

    request = rights_request("erasure", BRUNO, jurisdiction="CD")
    await stack.publish(request)
    await stack.closed(request["request_id"])
    status, view = await stack.api("GET", f"/v1/requests/{request['request_id']}")
    assert status == 200

    systems = {s["system"]: s for s in view["systems"]}
    assert systems["crm"]["outcome"] == "erased"
    assert systems["call_recordings"]["outcome"] == "erased", "his call is found by customer id and phone"
    assert systems["support_conversations"]["outcome"] == "anonymised"
    assert systems["billing"]["outcome"] == "retained"
    assert systems["billing"]["legal_basis"].startswith("legal obligation")
    assert await _bruno_left(stack) == {"customers": 0, "addresses": 0, "recordings": 0, "tickets": 0}
    assert not _bruno_recording(stack), "the recording file is gone from disk"

    # Proven, not assumed: each system that erased or anonymised was searched again by every
    # identifier known, and nothing was left.
    for name in ("crm", "call_recordings", "support_conversations", "support_desk"):
        verification = systems[name]["verification"]
        assert verification["remaining"] == 0, name
        assert verification["checked_at"] >= view["submitted_at"][:10]
    # A system that confirms on its own says it verified, or that it could not be checked.
    # A partner that confirms without a check of its own: recorded as not checked.
    assert systems["notify-partner-cd"]["outcome"] == "erased"
    assert systems["notify-partner-cd"]["verification"]["checked"] is False
    # The asynchronous tool searched by the phone identity resolution found, and proved its erasure.
    assert systems["marketing_list"]["outcome"] == "erased"
    assert systems["marketing_list"]["verification"]["remaining"] == 0
    left = await stack.fetch(
        "sandbox_upjunoo_marketing", "SELECT 1 FROM contacts WHERE contact_id = 'M-BRU-T'"
    )
    assert left == []
    assert systems["crm"]["located"] == 2, "his customer row, and his address found through the customer id"

    # The evidence says which identifiers were used, by kind and where found; never the values.
    assert view["identifiers"]["given"] == {"email": 1}
    assert view["identifiers"]["found"] == {
        "customer_id": {"count": 1, "sources": ["crm"]},
        "phone": {"count": 1, "sources": ["crm"]},
    }
    text = json.dumps(view)
    assert not [value for value in BRUNO_IDENTIFIERS if value in text]
    sealed = await _sealed_row(stack, request["request_id"])
    assert sealed is not None and not [v for v in BRUNO_IDENTIFIERS if v.encode() in sealed]


async def _sealed_row(stack: RunningStack, request_id: str) -> bytes | None:
    """The sealed identifiers as the ledger holds them (bytes that must not show one in clear)."""
    found = await stack.ledger.identities.sealed(request_id)
    return None if found is None else found[1]


async def _verifyco_seed(stack: RunningStack) -> None:
    conn = await stack.db("sandbox_testco_crm")
    try:
        await conn.execute(
            """
            CREATE TABLE IF NOT EXISTS verify_accounts (customer_id text PRIMARY KEY, email text NOT NULL);
            CREATE TABLE IF NOT EXISTS verify_tickets (
                ticket_id text PRIMARY KEY, customer_id text, requester_email text, body text);
            INSERT INTO verify_accounts VALUES ('V-EVE-001', 'eve@example.org')
                ON CONFLICT (customer_id) DO UPDATE SET email = EXCLUDED.email;
            INSERT INTO verify_tickets VALUES ('VT-1', 'V-EVE-001', 'eve@example.org', 'my parcel is late')
                ON CONFLICT (ticket_id) DO UPDATE SET customer_id = EXCLUDED.customer_id,
                    requester_email = EXCLUDED.requester_email, body = EXCLUDED.body;
            -- A system that accepts a delete and keeps the row: only looking again tells.
            CREATE OR REPLACE RULE tickets_never_deleted AS ON DELETE TO verify_tickets DO INSTEAD NOTHING;
            """
        )
    finally:
        await conn.close()


async def _system_view(stack: RunningStack, request_id: str, system: str, until: Any) -> dict[str, Any]:
    deadline = time.monotonic() + 90
    seen = None
    while time.monotonic() < deadline:
        status, view = await stack.api("GET", f"/v1/requests/{request_id}")
        if status == 200:
            seen = next((s for s in view["systems"] if s["system"] == system), None)
            if seen is not None and until(seen):
                return {**seen, "request_status": view["status"]}
        await asyncio.sleep(0.3)
    raise AssertionError(f"system {system} of {request_id} never reached the expected state: {seen}")


async def test_a_system_that_leaves_the_person_behind_is_not_erased_and_stays_open(
    stack: RunningStack,
) -> None:
    """The ticket system takes the delete and keeps the row (found again by the customer id
    identity resolution linked to Eve's e-mail): the system is not ``erased``, it stays open."""
    await _verifyco_seed(stack)
    request = rights_request("erasure", {"email": "eve@example.org"}, tenant="verifyco", jurisdiction="BE")
    await stack.publish(request)
    rid = request["request_id"]

    accounts = await _system_view(stack, rid, "accounts", lambda s: s["outcome"] == "erased")
    assert accounts["verification"]["remaining"] == 0
    tickets = await _system_view(
        stack,
        rid,
        "tickets",
        lambda s: (s["verification"] or {}).get("remaining", 0) > 0 and s["attempts"] >= 2,
    )
    assert tickets["outcome"] == "pending", "anything left is not erased"
    assert tickets["verification"]["remaining"] == 1
    assert "remain after erase" in tickets["error"]
    assert tickets["request_status"] == "in_progress", "the request stays open while a system is"
    left = await stack.fetch("sandbox_testco_crm", "SELECT * FROM verify_tickets WHERE ticket_id = 'VT-1'")
    assert left[0]["customer_id"] == "V-EVE-001"

    status, _ = await stack.api("POST", f"/v1/requests/{rid}/cancellation", {"reason": "test over"})
    assert status == 200
    await stack.wait_status(rid, "cancelled")


async def test_access_by_email_only_reports_all_of_bruno_and_says_which_identifiers_were_used(
    stack: RunningStack,
) -> None:
    await stack.reseed()
    request = rights_request("access", BRUNO, jurisdiction="CD")
    await stack.publish(request)
    await stack.closed(request["request_id"])
    status, report = await stack.api("GET", f"/v1/requests/{request['request_id']}/report")
    assert status == 200

    systems = report["systems"]
    crm_tables = sorted(r["table"] for r in systems["crm"]["records"])
    assert crm_tables == ["addresses", "customers"], "his address is held by customer id only"
    assert [r["file_path"] for r in systems["call_recordings"]["records"]] == ["bruno-courier-0001.wav"]
    assert systems["crm"]["done"]["action"] == "export"
    assert report["identifiers"] == {
        "given": {"email": 1},
        "found": {"customer_id": {"count": 1, "sources": ["crm"]}, "phone": {"count": 1, "sources": ["crm"]}},
    }
    async with aiohttp.ClientSession(headers={"Authorization": f"Bearer {TOKENS['dpo']}"}) as http:
        url = f"{stack.settings.api_url}/v1/requests/{request['request_id']}/report?format=html"
        async with http.get(url) as response:
            page = await response.text()
    assert "Your data was searched for by" in page and "customer_id: 1 found in crm" in page
