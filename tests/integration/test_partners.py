"""Partner companies over OpenDSR v2: sandbox partners in four countries, signed callbacks only.

The ``partnerco`` test pack tells four sandbox partners (CA at once, CI slowly, CD with 5xx
and duplicate out-of-order callbacks, MA never) of each erasure, and the first three of each
rectification. Callbacks the tests forge are signed with the sandbox partners' own keys, as
a partner (or an attacker holding some other key) would.
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp

from schemas import REQUEST_EVENTS_TOPIC
from tests.integration.conftest import RunningStack, rights_request
from workers.connectors.opendsr.protocol import callback_path
from workers.connectors.opendsr.signatures import new_identity, sign

SUBJECT = {"email": "ada@example.org"}
ANSWERING = ("notify-chronostec24-ca", "notify-upjunoo-ci", "notify-upjunoo-cd")
SILENT = "notify-jump-tangier"


def _partner_request(tenant: str = "partnerco", **change: Any) -> dict[str, Any]:
    return rights_request(change.pop("type", "erasure"), SUBJECT, tenant=tenant, jurisdiction="BE", **change)


async def _sent(stack: RunningStack, request_id: str, system: str, timeout: float = 30) -> dict[str, Any]:
    """The partner_requests row once the request has been submitted to the partner."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        rows = await stack.fetch(
            stack.settings.pg_database,
            "SELECT * FROM partner_requests WHERE request_id = $1 AND system = $2 AND status <> 'new'",
            request_id,
            system,
        )
        if rows:
            return rows[0]
        await _sleep(0.3)
    raise AssertionError(f"{system} of {request_id} was never submitted to its partner")


async def _sleep(seconds: float) -> None:
    import asyncio

    await asyncio.sleep(seconds)


def _key(stack: RunningStack, partner: str) -> bytes:
    return (stack.settings.sandbox_dir / "partners" / partner / "key.pem").read_bytes()


def _body(stack: RunningStack, sent: dict[str, Any], status: str, **change: Any) -> bytes:
    body = {
        "controller_id": "privacy-orchestrator",
        "subject_request_id": str(sent["subject_request_id"]),
        "request_status": status,
        "status_callback_url": stack.settings.api_url + callback_path(sent["tenant"], sent["system"]),
        "expected_completion_time": datetime.now(UTC).isoformat(),
        "sent_time": datetime.now(UTC).isoformat(),
    }
    body.update(change)
    return json.dumps(body).encode()


async def _call_back(
    stack: RunningStack, sent: dict[str, Any], raw: bytes, headers: dict[str, str]
) -> tuple[int, dict[str, Any]]:
    url = stack.settings.api_url + callback_path(sent["tenant"], sent["system"])
    async with (
        aiohttp.ClientSession() as http,
        http.post(url, data=raw, headers={"Content-Type": "application/json", **headers}) as reply,
    ):
        return reply.status, await reply.json()


def _signed(key: bytes, domain: str, raw: bytes, legacy: bool = False) -> dict[str, str]:
    prefix = "X-OpenGDPR" if legacy else "X-OpenDSR"
    return {f"{prefix}-Processor-Domain": domain, f"{prefix}-Signature": sign(key, raw)}


async def test_a_request_across_partner_countries_closes_only_after_every_signed_completed(
    stack: RunningStack,
):
    await stack.reseed()
    request = _partner_request(type="rectification", details={"corrections": {"email": "ada@example.org"}})
    await stack.publish(request)
    request_id = request["request_id"]

    # The partner that answers at once has confirmed; the slow one has not: the request waits.
    deadline = time.monotonic() + 30
    view: dict[str, Any] = {}
    while time.monotonic() < deadline:
        view = await stack.ledger.request(request_id) or {}
        outcomes = {s["system"]: s["outcome"] for s in view.get("systems", [])}
        if outcomes.get("notify-chronostec24-ca") == "rectified":
            break
        await _sleep(0.2)
    assert outcomes.get("notify-upjunoo-ci") == "pending", "the slow partner cannot have answered yet"
    assert view["status"] == "in_progress"

    view = await stack.closed(request_id, timeout=90)
    systems = {s["system"]: s for s in view["systems"]}
    for system in ANSWERING:
        assert systems[system]["outcome"] == "rectified", system
        assert systems[system]["evidence"]["confirmed_by"] in ("signed callback", "signed status answer")
    assert SILENT not in systems, "the MA partner is told of erasures only"

    # The flaky partner failed twice with 503 (retried), then sent every callback twice and
    # completed before in_progress: each distinct callback is kept once, the outcome stands.
    flaky = await _sent(stack, request_id, "notify-upjunoo-cd")
    kept = await stack.fetch(
        stack.settings.pg_database,
        "SELECT request_status FROM partner_callbacks WHERE subject_request_id = $1 ORDER BY received_at",
        flaky["subject_request_id"],
    )
    assert sorted(r["request_status"] for r in kept) == ["completed", "in_progress"]
    assert flaky["status"] == "completed", "a late in_progress never moves a completed request back"
    events = await stack.read_topic(
        REQUEST_EVENTS_TOPIC,
        lambda e: e["request_id"] == request_id and e.get("system") == "notify-upjunoo-cd"
        and e["kind"] == "system_outcome" and e.get("outcome") == "rectified",
        want=2,
        timeout=5,
    )  # fmt: skip
    assert len({e["event_id"] for e in events}) == 1, "one outcome, however many callbacks"


async def test_forged_unsigned_stale_and_wrong_partner_callbacks_are_refused(stack: RunningStack):
    await stack.reseed()
    request = _partner_request()
    await stack.publish(request)
    request_id = request["request_id"]
    sent = await _sent(stack, request_id, SILENT)
    domain = "opendsr.jump-tangier.example"
    own_key = _key(stack, "jump-tangier")
    completed = _body(stack, sent, "completed")

    status, answer = await _call_back(stack, sent, completed, {})
    assert (status, answer["error"].split(":")[0]) == (403, "unsigned")
    forger_key, _ = new_identity(domain)
    status, answer = await _call_back(stack, sent, completed, _signed(forger_key, domain, completed))
    assert (status, answer["error"].split(":")[0]) == (403, "forged")
    status, answer = await _call_back(
        stack, sent, completed, _signed(own_key, "opendsr.unknown.example", completed)
    )
    assert (status, answer["error"].split(":")[0]) == (403, "unknown partner")
    other = _signed(_key(stack, "chronostec24-ca"), "opendsr.chronostec24.example", completed)
    status, answer = await _call_back(stack, sent, completed, other)
    assert (status, answer["error"].split(":")[0]) == (403, "wrong partner")
    old = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
    stale = _body(stack, sent, "completed", sent_time=old)
    status, answer = await _call_back(stack, sent, stale, _signed(own_key, domain, stale))
    assert (status, answer["error"].split(":")[0]) == (403, "stale")
    elsewhere = _body(stack, sent, "completed", status_callback_url="https://attacker.example/cb")
    status, answer = await _call_back(stack, sent, elsewhere, _signed(own_key, domain, elsewhere))
    assert status == 403 and "not this callback endpoint" in answer["error"]
    tampered = completed.replace(b'"completed"', b'"cancelled"')
    status, answer = await _call_back(stack, sent, tampered, _signed(own_key, domain, completed))
    assert (status, answer["error"].split(":")[0]) == (403, "forged"), "the signature covers the raw body"

    view = await stack.ledger.request(request_id)
    assert view is not None
    assert {s["system"]: s["outcome"] for s in view["systems"]}[SILENT] == "pending", (
        "nothing refused counted"
    )

    # The partner's own callbacks: progress under the legacy OpenGDPR names, then completed, twice.
    progress = _body(stack, sent, "in_progress")
    status, answer = await _call_back(stack, sent, progress, _signed(own_key, domain, progress, legacy=True))
    assert (status, answer["result"]) == (200, "noted")
    status, answer = await _call_back(stack, sent, completed, _signed(own_key, domain, completed))
    assert (status, answer["result"]) == (200, "erased")
    status, answer = await _call_back(stack, sent, completed, _signed(own_key, domain, completed))
    assert (status, answer["result"]) == (200, "duplicate")
    view = await stack.closed(request_id, timeout=60)
    systems = {s["system"]: s for s in view["systems"]}
    assert systems[SILENT]["outcome"] == "erased"
    assert systems[SILENT]["evidence"]["confirmed_by"] == "signed callback"
    late = _body(stack, sent, "in_progress")
    status, answer = await _call_back(stack, sent, late, _signed(own_key, domain, late))
    assert status == 200 and answer["result"] in ("closed", "already final")
    after = await stack.ledger.request(request_id)
    assert after is not None and after["status"] == "completed"


async def test_a_silent_partner_is_polled_then_an_operator_alerted_before_the_due_date(stack: RunningStack):
    await stack.reseed()
    request = _partner_request()
    await stack.publish(request)
    request_id = request["request_id"]
    alerts = await stack.read_topic(
        REQUEST_EVENTS_TOPIC,
        lambda e: e["request_id"] == request_id and e["kind"] in ("operator_alert", "overdue"),
        timeout=40,
    )
    assert alerts and alerts[0]["kind"] == "operator_alert", "the alert comes before the due date"
    assert alerts[0]["pending_systems"] == [SILENT]
    assert datetime.fromisoformat(alerts[0]["at"]) < datetime.fromisoformat(alerts[0]["due_at"])
    view = await stack.ledger.request(request_id)
    assert view is not None
    assert {s["system"]: s["outcome"] for s in view["systems"]}[SILENT] == "pending"
    polled = await _sent(stack, request_id, SILENT)
    assert polled["polls"] >= 3, "its status was asked every 2 s and at each reminder"

    # Cancelling the request withdraws it from the partner (OpenDSR DELETE).
    status, _ = await stack.api(
        "POST", f"/v1/requests/{request_id}/cancellation", {"reason": "subject withdrew"}
    )
    assert status == 200
    await stack.wait_status(request_id, "cancelled")
    sent = await _sent(stack, request_id, SILENT)
    directory = json.loads((stack.settings.sandbox_dir / "partners" / "directory.json").read_text())
    async with (
        aiohttp.ClientSession() as http,
        http.get(f"{directory['jump-tangier']['base_url']}/requests/{sent['subject_request_id']}") as reply,
    ):
        assert (await reply.json())["request_status"] == "cancelled"
    assert sent["status"] == "cancelled"
