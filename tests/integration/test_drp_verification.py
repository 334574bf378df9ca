"""DRP need_user_verification and expired: the test plays the agent and the person.

The test packs ``drpco`` and ``drplapse`` want an agent to have verified the e-mail itself; an
agent that did not gets ``in_progress``/``need_user_verification`` with our page as
``user_verification_url``. The person proves who they are there by their customer number (held
by the business's own account system, never sent by the agent), the request goes on, is
fulfilled, and expires when the ledger purges its results (DrpCo keeps them 2 seconds). A person
who never verifies (DrpLapse gives 4 seconds), or answers wrongly five times, is denied with
``insuf_verification``. The agent hears each change on its status_callback.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import aiohttp
import pytest
from aiohttp import web

from orchestrator.workflows.retention_sweep import LEDGER_SCHEDULE_ID
from tests.integration.conftest import RunningStack
from tests.integration.test_drp import Agent, _call, _pair, _trust, status_callback_server

MAY = {"email": "may@example.org", "customer_id": "D-MAY-001"}
PERSON = "data subject (DRP verification page)"


@pytest.fixture
async def agent_server() -> AsyncIterator[tuple[str, list[dict[str, Any]]]]:
    """The agent's status_callback: every notice it is sent, in order."""
    received: list[dict[str, Any]] = []

    async def receive(request: web.Request) -> web.Response:
        received.append(await request.json())
        return web.Response(text="ok")

    async with status_callback_server(receive) as url:
        yield url, received


@pytest.fixture
async def accounts(stack: RunningStack) -> RunningStack:
    """The business's account system (the packs' identity source) knows May by e-mail and number."""
    conn = await stack.db("sandbox_testco_crm")
    try:
        await conn.execute(
            """
            CREATE TABLE IF NOT EXISTS drp_accounts (customer_id text PRIMARY KEY, email text NOT NULL);
            INSERT INTO drp_accounts VALUES ('D-MAY-001', 'may@example.org')
                ON CONFLICT (customer_id) DO UPDATE SET email = EXCLUDED.email;
            """
        )
    finally:
        await conn.close()
    return stack


async def _until(check: Callable[[], Awaitable[Any]], what: str, timeout: float = 90) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = await check()
        if found:
            return found
        await asyncio.sleep(0.3)
    raise AssertionError(f"{what}: not seen within {timeout}s")


async def _submit(stack: RunningStack, agent: Agent, business: str, exercise: str, callback: str) -> str:
    claims = agent.claims(business, exercise=exercise, regime="ccpa", email=MAY["email"],
                          email_verified=False, status_callback=callback)  # fmt: skip
    status, answer = await _call(stack, "POST", "/v1/data-rights-request", agent.sign(claims), agent.token)
    assert status == 200, answer
    return str(answer["request_id"])


async def _status_when(
    stack: RunningStack, agent: Agent, request_id: str, status: str, reason: str = ""
) -> Any:
    async def seen() -> dict[str, Any] | None:
        _, body = await _call(stack, "GET", f"/v1/data-rights-request/{request_id}", token=agent.token)
        return body if body["status"] == status and body.get("reason", "") == reason else None

    return await _until(seen, f"DRP status {status}/{reason}")


async def _page(method: str, url: str, **kwargs: Any) -> tuple[int, str, str]:
    """The person's browser: status, body, and where a redirect points (not followed)."""
    async with (
        aiohttp.ClientSession() as http,
        http.request(method, url, allow_redirects=False, **kwargs) as response,
    ):
        return response.status, await response.text(), response.headers.get("Location", "")


async def test_the_person_verifies_with_us_then_the_request_is_fulfilled_and_expires(
    accounts: RunningStack, tmp_path: Path, agent_server: tuple[str, list[dict[str, Any]]]
) -> None:
    stack = accounts
    callback, notices = agent_server
    agent = Agent("VERIFYING_AGENT")
    _trust(tmp_path, agent)
    await _pair(stack, agent, "DRPCO")
    request_id = await _submit(stack, agent, "DRPCO", "access", callback)

    waiting = await _status_when(stack, agent, request_id, "in_progress", "need_user_verification")
    url = waiting["user_verification_url"]
    assert url == f"{stack.settings.api_url}/v1/drp/verification/{request_id}"
    assert waiting["expires_at"] and waiting["expected_by"]
    await _until(lambda: _found(notices, "need_user_verification"), "the agent told to send the person")

    # The agent sends the person with request_id and redirect_to; another request's id is refused.
    back = "https://agent.example/done?ref=1"
    code, _, _ = await _page("GET", url + "?" + urlencode({"request_id": agent.id, "redirect_to": back}))
    assert code == 400
    code, form, _ = await _page("GET", url + "?" + urlencode({"request_id": request_id, "redirect_to": back}))
    assert code == 200 and "customer number" in form
    assert MAY["customer_id"] not in form and MAY["email"] not in form

    answer = {"request_id": request_id, "redirect_to": back, "kind": "customer_id"}
    code, text, location = await _page("POST", url, data={**answer, "value": "D-MAY-999"})
    assert code == 403 and "4 tries left" in text and not location  # never back to the agent on failure
    code, _, location = await _page("POST", url, data={**answer, "value": " D-MAY-001 "})
    assert (code, location) == (303, back)

    # The person's verification went through the operator's audited path; the request ran.
    _, audit = await stack.api("GET", f"/v1/requests/{request_id}/audit")
    assert any(e["actor"] == PERSON and e["action"] == "verify" for e in audit["entries"]), audit
    await stack.closed(request_id)
    fulfilled = await _status_when(stack, agent, request_id, "fulfilled")
    assert fulfilled["expires_at"] and "user_verification_url" not in fulfilled
    await _until(lambda: _found(notices, "fulfilled"), "the agent told it is fulfilled")

    # DrpCo keeps results 2 seconds: once the ledger purged the report, the request has expired.
    async def expired() -> dict[str, Any] | None:
        await stack.client.get_schedule_handle(LEDGER_SCHEDULE_ID).trigger()
        _, body = await _call(stack, "GET", f"/v1/data-rights-request/{request_id}", token=agent.token)
        return body if body["status"] == "expired" else None

    gone = await _until(expired, "the request expired")
    assert gone["expires_at"] == fulfilled["expires_at"]
    assert (await stack.api("GET", f"/v1/requests/{request_id}/report"))[0] == 410  # the same fact
    await _until(lambda: _found(notices, "expired"), "the agent told it expired")
    # Told of each change in order, the last one final.
    told = [n.get("reason") or n["status"] for n in notices]
    assert (
        told.index("need_user_verification")
        < told.index("fulfilled")
        < told.index("expired")
        == len(told) - 1
    )
    # Past need_user_verification, the page has nothing to verify.
    assert (await _page("GET", url + "?" + urlencode({"request_id": request_id})))[0] == 409


async def test_a_person_who_never_verifies_is_denied_for_insufficient_verification(
    accounts: RunningStack, tmp_path: Path, agent_server: tuple[str, list[dict[str, Any]]]
) -> None:
    stack = accounts
    callback, notices = agent_server
    agent = Agent("PATIENT_AGENT")
    _trust(tmp_path, agent)
    await _pair(stack, agent, "DRPLAPSE")
    request_id = await _submit(stack, agent, "DRPLAPSE", "deletion", callback)
    waiting = await _status_when(stack, agent, request_id, "in_progress", "need_user_verification")

    # DrpLapse gives the person 4 seconds: the workflow denies the verification when they pass.
    denied = await _status_when(stack, agent, request_id, "denied", "insuf_verification")
    assert denied["received_at"] == waiting["received_at"]
    view = await stack.wait_status(
        request_id, "rejected", reason="did not complete the identity verification"
    )
    assert view["closed_at"]
    await _until(lambda: _found(notices, "insuf_verification"), "the agent told it is denied")
    code, _, _ = await _page(
        "GET", waiting["user_verification_url"] + "?" + urlencode({"request_id": request_id})
    )
    assert code == 409


async def test_five_wrong_answers_deny_the_request(
    accounts: RunningStack, tmp_path: Path, agent_server: tuple[str, list[dict[str, Any]]]
) -> None:
    stack = accounts
    callback, _ = agent_server
    agent = Agent("GUESSING_AGENT")
    _trust(tmp_path, agent)
    await _pair(stack, agent, "DRPCO")
    request_id = await _submit(stack, agent, "DRPCO", "deletion", callback)
    url = (await _status_when(stack, agent, request_id, "in_progress", "need_user_verification"))[
        "user_verification_url"
    ]
    guess = {"request_id": request_id, "kind": "customer_id"}
    for attempt in range(1, 6):
        code, text, _ = await _page("POST", url, data={**guess, "value": f"D-GUESS-{attempt}"})
        assert code == 403, text
    assert "closed" in text
    await _status_when(stack, agent, request_id, "denied", "insuf_verification")
    left = await stack.fetch(
        "sandbox_testco_crm", "SELECT 1 FROM drp_accounts WHERE customer_id = 'D-MAY-001'"
    )
    assert left, "a denied deletion erased nothing"


async def _found(notices: list[dict[str, Any]], word: str) -> bool:
    return any(word in (n["status"], n.get("reason")) for n in notices)
