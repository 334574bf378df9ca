"""Operators steer requests: escalation of silent systems, extension, cancellation, manual steps,
and every action in a tamper-evident audit log. Uses the test tenant with second-scale deadlines."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from datetime import datetime, timedelta

from schemas import REQUEST_EVENTS_TOPIC
from tests.integration.conftest import RunningStack, rights_request


def _testco(request_type: str = "erasure") -> dict:
    return rights_request(request_type, {"email": "ada@example.org"}, tenant="testco", jurisdiction="BE")


async def test_a_silent_system_is_reminded_then_an_operator_alerted_then_the_request_flagged_overdue(
    stack: RunningStack,
):
    await stack.reseed()
    request = _testco()
    await stack.publish(request)
    rid = request["request_id"]
    alerts = await stack.read_topic(
        REQUEST_EVENTS_TOPIC,
        lambda e: e["request_id"] == rid and e["kind"] in ("operator_alert", "overdue"),
        want=2,
        timeout=40,
    )
    assert [a["kind"] for a in alerts] == ["operator_alert", "overdue"], "alert comes before the due date"
    assert alerts[0]["pending_systems"] == ["paper_archive"]
    view = await stack.wait_status(rid, "in_progress", flag="overdue")
    archive = next(s for s in view["systems"] if s["system"] == "paper_archive")
    assert archive["attempts"] >= 2, "the silent system was reminded (its task sent again)"
    found = [
        w
        async for w in stack.client.list_workflows(
            f"WorkflowId = 'privacy-request-{rid}' AND PrivacyOverdue = true"
        )
    ]
    assert len(found) == 1, "operators find it in the Temporal UI by the PrivacyOverdue search attribute"
    status, body = await stack.api("GET", "/v1/requests/overdue")
    assert rid in [r["request_id"] for r in body["requests"]]

    status, _ = await stack.api(
        "POST",
        f"/v1/requests/{rid}/systems/paper_archive/confirmation",
        {"outcome": "erased", "reason": "file shredded", "evidence": {"certificate": "SHRED-2026-77"}},
    )
    assert status == 200
    view = await stack.closed(rid)
    archive = next(s for s in view["systems"] if s["system"] == "paper_archive")
    assert archive["outcome"] == "erased" and archive["evidence"]["confirmed_by"] == "dpo@test"
    assert "overdue" in view["flags"], "a late answer stays on record as late"


async def test_the_deadline_is_extended_once_with_reasons_inside_the_first_period(stack: RunningStack):
    request = _testco()
    await stack.publish(request)
    rid = request["request_id"]
    await stack.wait_status(rid, "in_progress")
    path = f"/v1/requests/{rid}/extension"
    status, body = await stack.api("POST", path, {"reason": ""})
    assert status == 409 and "reasons" in body["error"]
    status, body = await stack.api(
        "POST", path, {"reason": "complex request across paper archives"}, role=None
    )
    assert status == 401 and "token" in body["error"]
    status, body = await stack.api("POST", path, {"reason": "complex request across paper archives"})
    assert status == 200 and "extended" in body["flags"]
    view = await stack.ledger.request(rid)
    extended_by = datetime.fromisoformat(view["due_at"]) - datetime.fromisoformat(view["submitted_at"])
    assert extended_by >= timedelta(days=89), "GDPR: one month and two more (the test pack allows it)"
    assert "extended" in view["flags"]
    status, body = await stack.api("POST", path, {"reason": "again"})
    assert status == 409 and "already extended" in body["error"]

    status, body = await stack.api(
        "POST", f"/v1/requests/{rid}/cancellation", {"reason": "subject withdrew the request"}
    )
    assert status == 200
    view = await stack.wait_status(rid, "cancelled")
    assert "subject withdrew" in view["reason"]
    status, body = await stack.api("POST", f"/v1/requests/{rid}/cancellation", {"reason": "twice"})
    assert status == 409


async def test_actions_on_unknown_requests_and_bad_bodies_get_clear_errors(stack: RunningStack):
    status, body = await stack.api(
        "POST", "/v1/requests/00000000-0000-4000-8000-0000000000aa/extension", {"reason": "x"}
    )
    assert status == 404
    status, body = await stack.api("POST", "/v1/holds", {"tenant": "upjunoo"})
    assert status == 400 and "subject" in body["error"]
    status, body = await stack.api(
        "POST", "/v1/holds/00000000-0000-4000-8000-0000000000bb/release", {"reason": "x"}
    )
    assert status == 404


async def test_every_operator_action_is_audited_and_tampering_is_detected(stack: RunningStack):
    request = _testco()
    await stack.publish(request)
    rid = request["request_id"]
    await stack.wait_status(rid, "in_progress")
    await stack.api("POST", f"/v1/requests/{rid}/cancellation", {"reason": "duplicate of another request"})
    await stack.wait_status(rid, "cancelled")
    status, body = await stack.api("GET", f"/v1/requests/{rid}/audit")
    assert [(e["actor"], e["action"], e["reason"]) for e in body["entries"]] == [
        ("dpo@test", "cancel", "duplicate of another request")
    ]

    env = {"PYTHONPATH": "."}
    verify = [sys.executable, "-m", "orchestrator.cli.main", "audit", "verify"]
    intact = await asyncio.to_thread(
        subprocess.run, verify, capture_output=True, text=True, env={**os.environ, **env}
    )
    assert intact.returncode == 0 and "intact" in intact.stdout
    conn = await stack.db("privacy")
    try:
        await conn.execute("UPDATE audit_log SET reason = 'nothing to see' WHERE request_id = $1", rid)
    finally:
        await conn.close()
    broken = await asyncio.to_thread(
        subprocess.run, verify, capture_output=True, text=True, env={**os.environ, **env}
    )
    assert broken.returncode == 1 and "BROKEN" in broken.stdout
    assert "content differs" in broken.stderr
    conn = await stack.db("privacy")
    try:  # put it back so later tests see an intact chain
        await conn.execute(
            "UPDATE audit_log SET reason = 'duplicate of another request' WHERE request_id = $1", rid
        )
    finally:
        await conn.close()


async def test_a_duplicate_request_is_merged_into_the_earlier_one_after_verification(stack: RunningStack):
    first, second = _testco(), _testco()
    await stack.publish(first)
    await stack.wait_status(first["request_id"], "in_progress")
    await stack.publish(second)
    view = await stack.wait_status(second["request_id"], "cancelled")
    assert f"merged into request {first['request_id']}" in view["reason"]
    await stack.api("POST", f"/v1/requests/{first['request_id']}/cancellation", {"reason": "test done"})
