"""Each tenant's promises, as its seed states them, kept on the real stack."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from schemas import REQUEST_EVENTS_TOPIC
from tests.integration.conftest import ADA, RunningStack, rights_request


def _on_clock(instant: str | datetime, zone: str) -> datetime:
    """The wall-clock time of ``instant`` in ``zone``, without its offset (for day counts)."""
    moment = datetime.fromisoformat(instant) if isinstance(instant, str) else instant
    return moment.astimezone(ZoneInfo(zone)).replace(tzinfo=None)


def _outcomes(view: dict) -> dict[str, str]:
    return {s["system"]: s["outcome"] for s in view["systems"]}


async def test_jump_keeps_open_claims_and_fraud_signals_erases_the_rest_and_tells_recipients(
    stack: RunningStack,
):
    await stack.reseed()
    request = rights_request("erasure", tenant="jump", jurisdiction="BE")
    await stack.publish(request)
    # The Tangier office (sandbox: a partner that never calls back) confirms by phone; an
    # operator records it once the request was sent there.
    tangier = "notify-tangier-office"
    for _ in range(150):
        view = await stack.ledger.request(request["request_id"]) or {"systems": []}
        if _outcomes(view).get(tangier) == "pending" and len(_outcomes(view)) == 11:
            break
        await asyncio.sleep(0.2)
    status, _ = await stack.api(
        "POST",
        f"/v1/requests/{request['request_id']}/systems/{tangier}/confirmation",
        {"outcome": "erased", "reason": "confirmed by phone", "evidence": {"call": "TNG-1"}},
    )
    assert status == 200
    view = await stack.closed(request["request_id"])
    assert _outcomes(view) == {
        "crm": "erased",
        "deliveries": "retained",  # the shipment her open claim is about; the other anonymised
        "claims": "retained",
        "fraud_signals": "retained",
        "newsletter": "erased",
        "mailing_tool": "erased",
        "notify-tangier-office": "erased",
        "notify-delivery-providers": "notified",
        "notify-hosting-provider": "notified",
        "notify-communications-provider": "notified",
        "notify-payment-processor": "notified",
    }
    systems = {s["system"]: s for s in view["systems"]}
    assert "open claim or dispute" in systems["claims"]["legal_basis"]
    assert "fraud prevention" in systems["fraud_signals"]["legal_basis"]
    claims = await stack.fetch(
        "sandbox_jump_claims", "SELECT restricted FROM claims WHERE customer_id = 'C-ADA-001'"
    )
    assert claims == [{"restricted": True}], "the open claim is kept, restricted"
    shipments = await stack.fetch(
        "sandbox_jump_deliveries",
        "SELECT recipient_email, address FROM shipments WHERE shipment_id = 'JMP-S-1'",
    )
    assert shipments == [{"recipient_email": None, "address": None}], (
        "parcel recipients are data subjects too"
    )
    assert "open claim" in systems["deliveries"]["legal_basis"]
    [claimed] = await stack.fetch(
        "sandbox_jump_deliveries",
        "SELECT sender_customer_id, recipient_email, restricted FROM shipments WHERE shipment_id = 'JMP-S-2'",
    )
    kept = {"sender_customer_id": "C-ADA-001", "recipient_email": "youssef@example.org", "restricted": True}
    assert claimed == kept, "the shipment her open claim is about is kept, restricted"


async def test_jump_direct_marketing_objection_is_honoured_without_a_decision(stack: RunningStack):
    # "direct_marketing" is one of Jump's older words (purpose_aliases): events in the wild keep working.
    await stack.reseed()
    request = rights_request(
        "objection", tenant="jump", jurisdiction="BE", details={"purposes": ["direct_marketing"]}
    )
    await stack.publish(request)
    view = await stack.closed(request["request_id"])
    assert _outcomes(view) == {
        "crm": "processing_stopped",
        "newsletter": "processing_stopped",
        "mailing_tool": "processing_stopped",
    }
    suppressed = await stack.fetch(
        "sandbox_jump_marketing",
        "SELECT 1 FROM suppressions WHERE identity = 'email' AND value = 'ada@example.org'",
    )
    assert suppressed, "a suppression entry keeps the subject from being re-added"


async def test_jump_objection_on_legitimate_interest_can_be_refused_with_reasons(stack: RunningStack):
    await stack.reseed()
    request = rights_request(
        "objection", tenant="jump", jurisdiction="BE", details={"purposes": ["analytics"]}
    )
    await stack.publish(request)
    await stack.wait_status(request["request_id"], "in_progress", reason="awaiting operator decision")
    path = f"/v1/requests/{request['request_id']}/objection-decision"
    status, body = await stack.api("POST", path, {"decision": "refuse"})
    assert status == 409 and "reasons" in body["error"]
    status, _ = await stack.api(
        "POST", path, {"decision": "refuse", "reason": "compelling legitimate grounds: fraud investigation"}
    )
    assert status == 200
    view = await stack.closed(request["request_id"])
    assert set(_outcomes(view).values()) == {"refused"}
    assert all("compelling legitimate grounds" in s["error"] for s in view["systems"])


async def test_jump_portability_exports_what_the_subject_provided(stack: RunningStack):
    await stack.reseed()
    request = rights_request("portability", tenant="jump", jurisdiction="BE")
    await stack.publish(request)
    await stack.closed(request["request_id"])
    status, report = await stack.api("GET", f"/v1/requests/{request['request_id']}/report")
    assert status == 200
    [record] = report["systems"]["crm"]["records"]
    assert set(record) == {"table", "customer_id", "email", "phone", "full_name", "country"}


async def test_j2s_waits_for_the_identity_document_check_and_does_not_keep_the_document(stack: RunningStack):
    await stack.reseed()
    request = rights_request(
        "access", tenant="j2s", jurisdiction="FR", verification={"document": "c2lnbmVkIElEIGNvcHk="}
    )
    await stack.publish(request)
    view = await stack.wait_status(request["request_id"], "awaiting_verification")
    assert view["reason"] == "identity document to check"
    kept = "SELECT 1 FROM identity_documents WHERE request_id = $1"
    assert await stack.fetch("privacy", kept, request["request_id"])
    status, _ = await stack.api(
        "POST", f"/v1/requests/{request['request_id']}/verification", {"decision": "approve"}
    )
    assert status == 200
    await stack.closed(request["request_id"])
    assert not await stack.fetch("privacy", kept, request["request_id"]), (
        "the document is not kept after the check"
    )


async def test_j2s_refuses_a_request_whose_identity_is_not_verified(stack: RunningStack):
    request = rights_request("erasure", tenant="j2s", jurisdiction="FR")
    await stack.publish(request)
    view = await stack.wait_status(request["request_id"], "awaiting_verification")
    assert "missing" in view["reason"]
    status, _ = await stack.api(
        "POST",
        f"/v1/requests/{request['request_id']}/verification",
        {"decision": "deny", "reason": "no signed identity document received"},
    )
    assert status == 200
    view = await stack.wait_status(request["request_id"], "rejected")
    assert "no signed identity document" in view["reason"]


async def test_j2s_keeps_contracts_ten_years_support_five_logs_twelve_months(stack: RunningStack):
    await stack.reseed()
    submitted = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
    request = rights_request(
        "erasure",
        tenant="j2s",
        jurisdiction="FR",
        submitted_at=submitted.isoformat(),
        verification={"document": "aWQ="},
    )
    await stack.publish(request)
    await stack.wait_status(request["request_id"], "awaiting_verification")
    await stack.api("POST", f"/v1/requests/{request['request_id']}/verification", {"decision": "approve"})
    view = await stack.closed(request["request_id"])
    systems = {s["system"]: s for s in view["systems"]}
    assert systems["crm"]["retained_until"].startswith("2036-11-02")
    assert systems["support"]["retained_until"].startswith("2031-11-02")
    assert systems["connection_logs"]["retained_until"].startswith("2027-11-02")
    assert systems["notify-hosting-provider"]["outcome"] == "notified"
    assert systems["notify-software-publishers"]["outcome"] == "refused"
    assert "hold no copy" in systems["notify-software-publishers"]["evidence"]["notification_impossible"]
    assert view["due_at"].startswith("2026-12-02"), "J2S answers within one month"


async def test_jsm_answers_within_30_days_when_shorter_than_the_gdpr_month(stack: RunningStack):
    submitted = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)  # 30 days across the change to summer time
    request = rights_request("access", tenant="jsm", jurisdiction="BE", submitted_at=submitted.isoformat())
    await stack.publish(request)
    view = await stack.closed(request["request_id"])
    brussels = "Europe/Brussels"
    assert _on_clock(view["due_at"], brussels) == _on_clock(submitted, brussels) + timedelta(days=30), (
        "30 days on JSM's Brussels clock"
    )
    assert "tenant promise" in view["deadline_basis"]


async def test_jsm_erases_a_childs_data_reported_as_collected_without_parental_consent(stack: RunningStack):
    await stack.reseed()
    request = rights_request(
        "erasure",
        tenant="jsm",
        jurisdiction="BE",
        details={"minor_without_parental_consent": True},
        verification={"subject_age": 15},
    )
    await stack.publish(request)
    rid = request["request_id"]
    await stack.wait_status(rid, "in_progress")  # not held back for a guardian
    for _ in range(150):
        view = await stack.ledger.request(rid)
        if any(s["system"] == "notify-direct-mail-processor" for s in view["systems"]):
            break
        await asyncio.sleep(0.2)
    status, _ = await stack.api(
        "POST",
        f"/v1/requests/{rid}/systems/notify-direct-mail-processor/confirmation",
        {"outcome": "notified", "reason": "letter sent"},
    )
    assert status == 200
    view = await stack.closed(rid)
    outcomes = _outcomes(view)
    assert outcomes["crm"] == outcomes["contracts"] == outcomes["billing"] == "erased", (
        "dan verwijderen wij deze informatie: nothing is kept"
    )
    kept = await stack.fetch("sandbox_jsm_billing", "SELECT 1 FROM invoices WHERE customer_id = 'C-ADA-001'")
    assert not kept


async def test_jsm_restriction_marks_data_restricted_and_tells_processors(stack: RunningStack):
    await stack.reseed()
    request = rights_request("restriction", tenant="jsm", jurisdiction="BE")
    await stack.publish(request)
    await stack.wait_status(request["request_id"], "in_progress")
    # The direct-mail processor is told by letter: an operator confirms it.
    for _ in range(100):
        view = await stack.ledger.request(request["request_id"])
        if any(s["system"] == "notify-direct-mail-processor" for s in view["systems"]):
            break
        await asyncio.sleep(0.1)
    status, _ = await stack.api(
        "POST",
        f"/v1/requests/{request['request_id']}/systems/notify-direct-mail-processor/confirmation",
        {"outcome": "notified", "reason": "letter sent, receipt acknowledged"},
    )
    assert status == 200
    view = await stack.closed(request["request_id"])
    outcomes = _outcomes(view)
    assert (
        outcomes["crm"]
        == outcomes["contracts"]
        == outcomes["billing"]
        == outcomes["newsletter"]
        == outcomes["invoicing_tool"]
        == "restricted"
    )
    assert outcomes["notify-direct-mail-processor"] == "notified"
    rows = await stack.fetch(
        "sandbox_jsm_crm", "SELECT restricted FROM customers WHERE customer_id = 'C-ADA-001'"
    )
    assert rows == [{"restricted": True}]


async def test_nexio_answers_in_7_days_first_copy_free_further_copies_flagged(stack: RunningStack):
    await stack.reseed()
    subject = {"email": "lotte@example.org"}
    first = rights_request("access", subject, tenant="nexio", jurisdiction="NL")
    await stack.publish(first)
    view = await stack.closed(first["request_id"])
    assert "fee_applicable" not in view["flags"]
    assert _on_clock(view["due_at"], "Europe/Brussels") - _on_clock(
        view["submitted_at"], "Europe/Brussels"
    ) == timedelta(days=7)
    second = rights_request("access", subject, tenant="nexio", jurisdiction="NL")
    await stack.publish(second)
    view = await stack.closed(second["request_id"])
    assert "fee_applicable" in view["flags"]


async def test_nexio_erases_survey_answers_keeps_tax_records_and_fraud_data(stack: RunningStack):
    await stack.reseed()
    request = rights_request("erasure", tenant="nexio", jurisdiction="BE")
    await stack.publish(request)
    view = await stack.closed(request["request_id"])
    outcomes = _outcomes(view)
    assert outcomes["surveys"] == "erased" and outcomes["crm"] == "erased"
    assert outcomes["transactions"] == "retained" and outcomes["fraud_prevention"] == "retained"
    assert outcomes["correspondence"] == "erased" and outcomes["notify-external-providers"] == "notified"


async def test_nexio_consent_withdrawal_stops_mailing_and_suppresses_the_subject(stack: RunningStack):
    await stack.reseed()
    request = rights_request(
        "consent_withdrawal", tenant="nexio", jurisdiction="BE", details={"purposes": ["marketing"]}
    )
    await stack.publish(request)
    view = await stack.closed(request["request_id"])
    assert _outcomes(view) == {"crm": "consent_withdrawn", "correspondence": "consent_withdrawn"}
    rows = await stack.fetch(
        "sandbox_nexio_crm", "SELECT marketing_opt_out FROM customers WHERE customer_id = 'C-ADA-001'"
    )
    assert rows == [{"marketing_opt_out": True}]


async def test_upjunoo_rectification_reaches_every_system_and_country_partner(stack: RunningStack):
    await stack.reseed()
    new_phone = "+2250700000099"
    request = rights_request("rectification", ADA, details={"corrections": {"phone": new_phone}})
    await stack.publish(request)
    view = await stack.closed(request["request_id"])
    outcomes = _outcomes(view)
    for system in ("crm", "billing", "support_conversations", "marketing_list", "support_desk"):
        assert outcomes[system] == "rectified", system
    for partner in ("notify-partner-ci", "notify-partner-cd", "notify-partner-ca"):
        assert outcomes[partner] == "rectified", partner
    assert outcomes["notify-ad-partners"] == "notified"
    rows = await stack.fetch(
        "sandbox_upjunoo_crm", "SELECT phone FROM customers WHERE customer_id = 'C-ADA-001'"
    )
    assert rows == [{"phone": new_phone}]
    await stack.reseed()


async def test_upjunoo_legal_hold_for_judicial_proceedings_blocks_erasure_until_released(stack: RunningStack):
    await stack.reseed()
    status, body = await stack.api(
        "POST",
        "/v1/holds",
        {
            "tenant": "upjunoo",
            "subject": {"email": "ADA@example.org"},
            "reason": "judicial proceedings: case 2026/118 (Abidjan)",
        },
    )
    assert status == 200
    hold_id = body["hold_id"]
    request = rights_request("erasure")
    await stack.publish(request)
    view = await stack.wait_status(request["request_id"], "in_progress", flag="on_hold")
    assert "judicial proceedings" in view["reason"]
    rows = await stack.fetch("sandbox_upjunoo_crm", "SELECT 1 FROM customers WHERE customer_id = 'C-ADA-001'")
    assert rows, "nothing is erased while the hold stands"
    status, body = await stack.api("POST", f"/v1/holds/{hold_id}/release", {"reason": "case closed"})
    assert status == 200 and body["requests_told"] >= 1
    view = await stack.closed(request["request_id"])
    assert "on_hold" not in view["flags"] and _outcomes(view)["crm"] == "erased"


async def test_jump_portability_goes_straight_to_the_named_provider_when_possible(stack: RunningStack):
    from aiohttp import web

    from infra.processes import free_port

    received: list[dict] = []

    async def receive(request: web.Request) -> web.Response:
        received.append(await request.json())
        return web.json_response({"accepted": True})

    app = web.Application()
    app.router.add_post("/import", receive)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        await stack.reseed()
        request = rights_request(
            "portability",
            tenant="jump",
            jurisdiction="BE",
            details={"destination": {"name": "OtherCourier", "url": f"http://127.0.0.1:{port}/import"}},
        )
        await stack.publish(request)
        view = await stack.closed(request["request_id"])
        transfer = next(s for s in view["systems"] if s["system"] == "transfer")
        assert transfer["outcome"] == "exported" and transfer["evidence"]["destination"] == "OtherCourier"
        assert received and received[0]["systems"]["crm"][0]["email"] == "ada@example.org"

        unreachable = rights_request(
            "portability",
            tenant="jump",
            jurisdiction="BE",
            details={"destination": {"name": "Gone", "url": "http://127.0.0.1:9/nothing-listens"}},
        )
        await stack.publish(unreachable)
        view = await stack.closed(unreachable["request_id"])
        transfer = next(s for s in view["systems"] if s["system"] == "transfer")
        assert transfer["outcome"] == "refused" and "not_possible" in transfer["evidence"]
        status, _ = await stack.api("GET", f"/v1/requests/{unreachable['request_id']}/report")
        assert status == 200, "the subject still gets the export itself"
    finally:
        await runner.cleanup()


async def test_receipt_is_confirmed_where_the_law_asks_for_it(stack: RunningStack):
    # The test tenant states no establishment: the subject's place decides (US: CCPA).
    request = rights_request("access", {"email": "chloe@example.org"}, tenant="testco", jurisdiction="US")
    await stack.publish(request)
    await stack.closed(request["request_id"])
    events = await stack.read_topic(
        REQUEST_EVENTS_TOPIC,
        lambda e: e["request_id"] == request["request_id"] and e["kind"] == "receipt_acknowledged",
    )
    assert events, "CCPA: receipt confirmed"


async def test_j2s_post_mortem_directive_is_acted_on_when_the_death_is_notified(stack: RunningStack):
    await stack.reseed()
    subject = {"email": "camille@example.org", "customer_id": "C-J2S-002"}
    status, body = await stack.api(
        "POST",
        "/v1/directives",
        {
            "tenant": "j2s",
            "subject": subject,
            "request_type": "erasure",
            "beneficiary": "Louis Martin (heir)",
        },
    )
    assert status == 200
    status, body = await stack.api(
        "POST", "/v1/directives", {"tenant": "upjunoo", "subject": subject, "request_type": "erasure"}
    )
    assert status == 409 and "no post-mortem directives" in body["error"]

    death = {
        "tenant": "j2s",
        "subject": {"email": "Camille@example.org"},
        "reason": "death certificate 2026-1142",
    }
    status, body = await stack.api("POST", "/v1/deaths", death)
    assert status == 200
    [request_id] = body["request_ids"]
    status, again = await stack.api("POST", "/v1/deaths", death)
    assert again["request_ids"] == [request_id], "notifying twice makes no second request"
    view = await stack.wait_status(request_id, "awaiting_verification")
    assert view["type"] == "erasure"
    await stack.api(
        "POST",
        f"/v1/requests/{request_id}/verification",
        {"decision": "approve", "reason": "certificate checked"},
    )
    view = await stack.closed(request_id)
    assert {s["system"]: s["outcome"] for s in view["systems"]}["crm"] == "retained"


async def test_upjunoo_keeps_support_calls_three_months_then_erases(stack: RunningStack):
    await stack.reseed()
    folder = stack.settings.sandbox_dir / "upjunoo" / "recordings"
    fresh = "ada-support-fresh.wav"
    (folder / fresh).write_bytes(b"RIFF fresh support call")
    conn = await stack.db("sandbox_upjunoo_recordings")
    try:
        await conn.execute(
            "INSERT INTO recordings (file_path, customer_id, caller_phone, kind, recorded_at, duration_s)"
            " VALUES ($1, 'C-ADA-001', '+2250700000001', 'support', now(), 1)",
            fresh,
        )
        request = rights_request("erasure")
        await stack.publish(request)
        view = await stack.closed(request["request_id"])
        recordings = next(s for s in view["systems"] if s["system"] == "call_recordings")
        assert recordings["outcome"] == "retained"
        assert "3 months (support)" in recordings["legal_basis"]
        until = datetime.fromisoformat(recordings["retained_until"])
        assert timedelta(days=88) < until - datetime.now(UTC) < timedelta(days=93)
        assert sorted(p.name for p in folder.glob("ada-*.wav")) == [fresh], "older calls are erased now"
        expiry = [
            w
            async for w in stack.client.list_workflows(
                f"WorkflowId = 'privacy-request-{request['request_id']}/system/call_recordings/retention-end'"
            )
        ]
        assert len(expiry) == 1 and expiry[0].status.name == "RUNNING", "erasure is scheduled for the end"
    finally:
        await conn.execute("DELETE FROM recordings WHERE file_path = $1", fresh)
        await conn.close()
        (folder / fresh).unlink(missing_ok=True)


async def test_what_is_kept_for_a_while_is_erased_when_its_period_ends(stack: RunningStack):
    await stack.reseed()
    folder = stack.settings.sandbox_dir / "testco" / "recordings"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "call-1.wav").write_bytes(b"RIFF call")
    conn = await stack.db("sandbox_testco_crm")
    try:
        await conn.execute(
            "INSERT INTO recordings VALUES ('call-1.wav', 'ada@example.org', 'support', now())"
            " ON CONFLICT (file_path) DO UPDATE SET recorded_at = now()"
        )
    finally:
        await conn.close()
    request = rights_request("erasure", {"email": "ada@example.org"}, tenant="testco", jurisdiction="BE")
    await stack.publish(request)
    rid = request["request_id"]
    for _ in range(150):
        row = await stack.ledger.system_result(rid, "recordings")
        if row is not None and row.outcome == "retained":
            break
        await asyncio.sleep(0.1)
    assert row is not None and row.outcome == "retained" and row.retained_until
    assert (folder / "call-1.wav").exists()
    for _ in range(200):
        row = await stack.ledger.system_result(rid, "recordings")
        if row is not None and row.outcome == "erased":
            break
        await asyncio.sleep(0.1)
    assert row is not None and row.outcome == "erased"
    assert "erased_when_retention_ended" in row.evidence
    assert row.evidence["verification"]["remaining"] == 0, "erased when the period ended, and proven"
    assert not (folder / "call-1.wav").exists()
    await stack.api("POST", f"/v1/requests/{rid}/cancellation", {"reason": "test done"})


async def test_identities_that_point_at_different_people_wait_for_an_operator(stack: RunningStack):
    await stack.reseed()
    impostor = {"email": "ada@example.org", "phone": "+32470000002"}  # Ada's e-mail, Pieter's phone
    request = rights_request("access", impostor, tenant="jsm", jurisdiction="BE")
    await stack.publish(request)
    view = await stack.wait_status(request["request_id"], "awaiting_verification")
    # Ada's record holds another phone, Pieter's another e-mail: both named, whichever is read first
    assert view["reason"] == (
        "automatic identity check failed: the email and phone given belong to different records"
    )


async def test_jsm_sends_no_personal_data_to_parties_outside_the_eu(stack: RunningStack):
    await stack.reseed()
    request = rights_request(
        "portability",
        tenant="jsm",
        jurisdiction="BE",
        details={"destination": {"name": "US Telecom", "url": "http://127.0.0.1:9/import", "country": "US"}},
    )
    await stack.publish(request)
    view = await stack.closed(request["request_id"])
    transfer = next(s for s in view["systems"] if s["system"] == "transfer")
    assert transfer["outcome"] == "refused"
    assert "buiten de EU" in transfer["error"] and "US" in transfer["error"]
