"""The controller's promises on the real stack: deadlines by its law and clock, extensions its
policy does not allow refused, every wait escalated, and every refusal explained to the subject
with the tenant's supervisory authority, in the language of its policy."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import aiohttp

from schemas import DLQ_TOPIC, REQUEST_EVENTS_TOPIC
from tests.integration.conftest import TOKENS, RunningStack, rights_request

DOCUMENT = {"document": "c2lnbmVkIElEIGNvcHk="}


def _instant(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


async def test_jump_answers_a_tangier_recipient_under_the_gdpr_on_the_brussels_clock(stack: RunningStack):
    request = rights_request(
        "access", tenant="jump", jurisdiction="MA", submitted_at="2026-01-31T10:00:00+00:00"
    )
    await stack.publish(request)
    view = await stack.closed(request["request_id"])
    assert _instant(view["due_at"]) == datetime(2026, 2, 28, 10, tzinfo=UTC), "GDPR's month, not 30 days"
    assert "GDPR" in view["deadline_basis"]


async def test_j2s_counts_its_month_on_the_paris_clock_whatever_offset_the_producer_wrote(
    stack: RunningStack,
):
    request = rights_request(
        "access",
        tenant="j2s",
        jurisdiction="FR",
        submitted_at="2026-03-01T09:30:00+11:00",
        verification=DOCUMENT,
    )
    await stack.publish(request)
    view = await stack.wait_status(request["request_id"], "awaiting_verification")
    # Received 28 Feb 23:30 in Paris: due 28 March 23:30 in Paris, not 1 April.
    assert _instant(view["due_at"]) == datetime(2026, 3, 28, 22, 30, tzinfo=UTC)
    await stack.api("POST", f"/v1/requests/{request['request_id']}/cancellation", {"reason": "test done"})


async def test_nexio_cannot_extend_its_seven_day_promise_and_explains_a_refused_objection_in_french(
    stack: RunningStack,
):
    await stack.reseed()
    request = rights_request(
        "objection", tenant="nexio", jurisdiction="BE", details={"purposes": ["analytics"]}
    )
    await stack.publish(request)
    rid = request["request_id"]
    await stack.wait_status(rid, "in_progress", reason="awaiting operator decision")
    status, body = await stack.api("POST", f"/v1/requests/{rid}/extension", {"reason": "complex objection"})
    assert status == 409 and "allows no extension" in body["error"], "7 days may not become 3 months"
    status, _ = await stack.api(
        "POST",
        f"/v1/requests/{rid}/objection-decision",
        {"decision": "refuse", "reason": "enquête de fraude"},
    )
    assert status == 200
    await stack.closed(rid)
    status, notice = await stack.api("GET", f"/v1/requests/{rid}/notice")
    assert status == 200 and notice["language"] == "fr" and notice["decision"] == "partly_refused"
    assert notice["refusals"][0]["text"] == "crm : non effectué, motif : enquête de fraude"
    assert "résidence habituelle" in notice["complaint"]["authority"]


async def test_a_refused_objection_at_j2s_tells_the_subject_they_may_complain_to_the_cnil(
    stack: RunningStack,
):
    await stack.reseed()
    request = rights_request(
        "objection",
        tenant="j2s",
        jurisdiction="FR",
        details={"purposes": ["analytics"]},
        verification=DOCUMENT,
    )
    await stack.publish(request)
    rid = request["request_id"]
    await stack.wait_status(rid, "awaiting_verification")
    await stack.api("POST", f"/v1/requests/{rid}/verification", {"decision": "approve"})
    await stack.wait_status(rid, "in_progress", reason="awaiting operator decision")
    reason = "compelling legitimate grounds: the contract is still being performed"
    await stack.api(
        "POST", f"/v1/requests/{rid}/objection-decision", {"decision": "refuse", "reason": reason}
    )
    await stack.closed(rid)

    status, notice = await stack.api("GET", f"/v1/requests/{rid}/notice")
    assert status == 200
    assert notice["language"] == "en", "the language J2S's policy is written in"
    assert notice["refusals"][0]["text"] == f"crm: not done, because: {reason}"
    assert (
        "(CNIL)" in notice["complaint"]["authority"] and notice["complaint"]["url"] == "https://www.cnil.fr"
    )
    status, _ = await stack.api("GET", f"/v1/requests/{rid}/notice", role="viewer")
    assert status == 403, "reasons are sent to the subject by an operator, not read by every viewer"


async def test_jump_refuses_a_rectification_for_a_criminal_investigation_with_privacyctl(stack: RunningStack):
    await stack.reseed()
    request = rights_request("rectification", tenant="jump", jurisdiction="BE",
                             details={"corrections": {"phone": "+32470000099"}})  # fmt: skip
    await stack.publish(request)
    rid = request["request_id"]
    await stack.wait_status(rid, "in_progress", reason="awaiting operator decision")
    refuse = [
        sys.executable, "-m", "orchestrator.cli.main", "decide-rectification", rid, "refuse",
        "--reason", "données nécessaires à une enquête pénale", "--actor", "dpo@test",
    ]  # fmt: skip
    done = await asyncio.to_thread(
        subprocess.run, refuse, capture_output=True, text=True, env={**os.environ, "PYTHONPATH": "."}
    )
    assert done.returncode == 0, done.stderr
    view = await stack.closed(rid)
    assert {s["outcome"] for s in view["systems"]} == {"refused"}
    phones = await stack.fetch(
        "sandbox_jump_crm", "SELECT phone FROM customers WHERE customer_id = 'C-ADA-001'"
    )
    assert phones and phones[0]["phone"] != "+32470000099", "nothing was changed"

    status, notice = await stack.api("GET", f"/v1/requests/{rid}/notice")
    assert notice["decision"] == "partly_refused" and notice["language"] == "fr"
    assert "Autorité de protection des données" in notice["complaint"]["authority"]
    status, audit = await stack.api("GET", f"/v1/requests/{rid}/audit")
    assert [(e["actor"], e["action"]) for e in audit["entries"]] == [("dpo@test", "decide_rectification")]
    status, body = await stack.api(
        "POST", f"/v1/requests/{rid}/rectification-decision", {"decision": "accept", "reason": "again"}
    )
    assert status == 409


async def test_a_request_submitted_in_the_future_goes_to_the_dlq_with_its_reason(stack: RunningStack):
    later = rights_request("access", submitted_at=(datetime.now(UTC) + timedelta(hours=2)).isoformat())
    await stack.publish(later)
    [rejected] = await stack.read_topic(DLQ_TOPIC, lambda r: later["request_id"] in r["raw"])
    assert rejected["reason"] == "future_submitted_at" and "in the future" in rejected["error"]
    assert await stack.ledger.request(later["request_id"]) is None


async def test_a_request_awaiting_verification_is_reminded_alerted_and_flagged_overdue(stack: RunningStack):
    request = rights_request("erasure", {"email": "ada@example.org"}, tenant="waitco", jurisdiction="BE")
    await stack.publish(request)
    rid = request["request_id"]
    view = await stack.wait_status(rid, "awaiting_verification", flag="overdue", timeout=60)
    assert view["status"] == "awaiting_verification", "still waiting for the operator, and late"
    alerts = await stack.read_topic(
        REQUEST_EVENTS_TOPIC,
        lambda e: e["request_id"] == rid and e["kind"] in ("operator_alert", "overdue"),
        want=3,
    )
    assert {e.get("waiting_for") for e in alerts} == {"identity verification"}
    assert any(e["kind"] == "operator_alert" and e.get("reminder", 0) >= 1 for e in alerts), "reminded"
    assert any(e["kind"] == "operator_alert" and e.get("reminder") == 0 for e in alerts), "alerted before due"
    status, body = await stack.api("GET", "/v1/requests/overdue")
    assert rid in [r["request_id"] for r in body["requests"]]

    await stack.api("POST", f"/v1/requests/{rid}/verification", {"decision": "deny", "reason": "no mandate"})
    await stack.wait_status(rid, "rejected")
    status, notice = await stack.api("GET", f"/v1/requests/{rid}/notice")
    assert (
        notice["decision"] == "refused"
        and notice["refusals"][0]["text"] == "identity not verified: no mandate"
    )
    assert notice["complaint"]["authority"] == "the Test Supervisory Authority"
    headers = {"Authorization": f"Bearer {TOKENS['operator']}"}
    async with (
        aiohttp.ClientSession(headers=headers) as http,
        http.get(f"{stack.settings.api_url}/v1/requests/{rid}/notice?format=html") as response,
    ):
        page = await response.text()
    assert response.status == 200 and "lang='en'" in page and "Test Supervisory Authority" in page
