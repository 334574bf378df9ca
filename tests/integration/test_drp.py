"""Authorised agents over the Data Rights Protocol 1.0: the test plays the agent.

Key set-up, a signed access request that becomes an ordinary request (the tenant's rule puts an
agent's request before an operator), its status and its callbacks (the agent's server fails once:
the notice is retried), a signed revocation; forged, replayed, expired, wrong-business and
unknown-agent messages refused with nothing started.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from nacl.signing import SigningKey

from schemas import REQUESTS_TOPIC
from tests.integration.conftest import RunningStack


@dataclass
class Agent:
    id: str
    key: SigningKey = field(default_factory=SigningKey.generate)
    token: str = ""

    def entry(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": f"Agent {self.id}",
            "verify_key": base64.b64encode(bytes(self.key.verify_key)).decode(),
            "web_url": "https://agent.example/",
            "identity_assurance_url": "https://agent.example/assurance",
        }

    def sign(self, claims: dict[str, Any], key: SigningKey | None = None) -> bytes:
        return base64.b64encode(bytes((key or self.key).sign(json.dumps(claims).encode())))

    def claims(
        self, business: str = "TESTCO", lifetime: timedelta = timedelta(minutes=5), **more: Any
    ) -> dict[str, Any]:
        now = datetime.now(UTC)
        return {
            "agent-id": self.id,
            "business-id": business,
            "issued-at": now.isoformat(),
            "expires-at": (now + lifetime).isoformat(),
            "drp.version": "1.0",
            **more,
        }


async def _call(
    stack: RunningStack, method: str, path: str, body: bytes | None = None, token: str = ""
) -> tuple[int, Any]:
    headers = {"Content-Type": "text/plain"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    async with (
        aiohttp.ClientSession() as http,
        http.request(method, stack.settings.api_url + path, data=body, headers=headers) as response,
    ):
        raw = await response.read()
        return response.status, (json.loads(raw) if raw else None)


def _privacyctl(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "orchestrator.cli.main", "drp", *args],
        capture_output=True, text=True, env=os.environ.copy(), timeout=60, check=False,
    )  # fmt: skip


def _trust(tmp: Path, *agents: Agent) -> None:
    entry = tmp / f"agents-{uuid.uuid4()}.json"
    entry.write_text(json.dumps([a.entry() for a in agents]))
    done = _privacyctl("trust-agent", str(entry))
    assert done.returncode == 0, done.stderr


@pytest.fixture
async def callbacks() -> AsyncIterator[tuple[str, list[dict[str, Any]]]]:
    """The agent's status_callback server; it answers the very first notice with a 500."""
    received: list[dict[str, Any]] = []
    failed_once: list[bool] = []

    async def receive(request: web.Request) -> web.Response:
        if not failed_once:
            failed_once.append(True)
            return web.Response(status=500)
        received.append(await request.json())
        return web.Response(text="thanks")

    async with status_callback_server(receive) as url:
        yield url, received


@contextlib.asynccontextmanager
async def status_callback_server(
    receive: Callable[[web.Request], Awaitable[web.Response]],
) -> AsyncIterator[str]:
    """An agent's ``status_callback`` endpoint on a free local port, answered by ``receive``."""
    app = web.Application()
    app.router.add_post("/status", receive)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        yield f"http://127.0.0.1:{port}/status"
    finally:
        await runner.cleanup()


async def _wait_for(check: Any, timeout: float = 60) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = await check()
        if found:
            return found
        await asyncio.sleep(0.3)
    raise AssertionError(f"not seen within {timeout}s")


async def _pair(stack: RunningStack, agent: Agent, business: str = "TESTCO") -> str:
    status, body = await _call(stack, "POST", f"/v1/agent/{agent.id}", agent.sign(agent.claims(business)))
    assert status == 200, body
    assert body["agent-id"] == agent.id and len(body["token"]) >= 32
    agent.token = body["token"]
    return agent.token


async def test_an_agent_pairs_submits_follows_and_revokes(
    stack: RunningStack, tmp_path: Path, callbacks: tuple[str, list[dict[str, Any]]]
) -> None:
    callback_url, notices = callbacks
    agent, other = Agent("CONSUMER_AGENT"), Agent("OTHER_AGENT")
    _trust(tmp_path, agent, other)
    entry = _privacyctl("business-entry", "TESTCO")
    assert entry.returncode == 0, entry.stderr
    assert json.loads(entry.stdout)["supported_actions"] == ["access", "deletion"]
    assert "tenant" not in json.loads(entry.stdout)  # configuration, not the directory's business

    await _pair(stack, agent)
    await _pair(stack, other)
    assert await _call(stack, "GET", f"/v1/agent/{agent.id}", token=agent.token) == (200, {})
    assert (await _call(stack, "GET", f"/v1/agent/{agent.id}", token=other.token))[0] == 403

    claims = agent.claims(
        exercise="access", regime="ccpa", email="ada@example.org", email_verified=True,
        status_callback=callback_url, **{"agent-request-id": "agent-ref-1"},
    )  # fmt: skip
    status, answer = await _call(stack, "POST", "/v1/data-rights-request", agent.sign(claims), agent.token)
    assert status == 200, answer
    request_id = answer["request_id"]
    assert answer["status"] in ("open", "in_progress") and answer["agent_request_id"] == "agent-ref-1"
    assert answer["received_at"]

    # An ordinary privacy.requests.v1 event: channel drp, the agent recorded, US law for the CCPA.
    [event] = await stack.read_topic(REQUESTS_TOPIC, lambda v: v.get("request_id") == request_id)
    assert event["channel"] == "drp" and event["type"] == "access" and event["jurisdiction"] == "US"
    assert event["verification"]["agent_id"] == agent.id
    assert event["verification"]["agent_verified"] == ["email"]
    # The tenant's identity rule: an agent's request waits for an operator.
    await stack.wait_status(request_id, "awaiting_verification", reason="agent")
    _, seen = await _call(stack, "GET", f"/v1/data-rights-request/{request_id}", token=agent.token)
    assert seen["status"] == "in_progress" and seen["expected_by"]
    assert (await _call(stack, "GET", f"/v1/data-rights-request/{request_id}", token=other.token))[0] == 403

    approved, _ = await stack.api(
        "POST", f"/v1/requests/{request_id}/verification", {"decision": "approve", "reason": "mandate ok"},
        role="operator",
    )  # fmt: skip
    assert approved == 200
    await stack.closed(request_id)
    _, done = await _call(stack, "GET", f"/v1/data-rights-request/{request_id}", token=agent.token)
    assert done["status"] == "fulfilled" and done["agent_request_id"] == "agent-ref-1"
    # Told of each change it was there to see, the last one final; the first notice was retried.
    await _wait_for(lambda: _async(any(n["status"] == "fulfilled" for n in notices)))
    assert all(n["request_id"] == request_id for n in notices)
    assert notices[-1]["status"] == "fulfilled"

    # A deletion, revoked by the agent while it waits for the operator.
    deletion = agent.claims(exercise="deletion", email="ada@example.org", status_callback=callback_url)
    status, answer = await _call(stack, "POST", "/v1/data-rights-request", agent.sign(deletion), agent.token)
    assert status == 200, answer
    second = answer["request_id"]
    await stack.wait_status(second, "awaiting_verification")
    revoke = agent.sign({"reason": "changed my mind"})
    assert (await _call(stack, "DELETE", f"/v1/data-rights-request/{second}", revoke, other.token))[0] == 403
    forged = agent.sign({"reason": "x"}, key=other.key)
    assert (await _call(stack, "DELETE", f"/v1/data-rights-request/{second}", forged, agent.token))[0] == 403
    status, answer = await _call(stack, "DELETE", f"/v1/data-rights-request/{second}", revoke, agent.token)
    assert status == 200 and answer["status"] == "revoked", answer
    await stack.wait_status(second, "cancelled")
    _, seen = await _call(stack, "GET", f"/v1/data-rights-request/{second}", token=agent.token)
    assert seen["status"] == "revoked"
    await _wait_for(lambda: _async(any(n == {**seen, "status": "revoked"} for n in notices)))


async def _async(value: Any) -> Any:
    return value


async def test_forged_replayed_expired_wrong_business_and_unknown_agents_are_refused(
    stack: RunningStack, tmp_path: Path
) -> None:
    agent, stranger = Agent("REFUSAL_AGENT"), Agent("STRANGER_AGENT")
    _trust(tmp_path, agent)
    before = await _count(stack)

    # Key set-up: an unknown agent, a forged signature, a wrong business: 403 with no body.
    for agent_id, body in (
        (stranger.id, stranger.sign(stranger.claims())),
        (agent.id, agent.sign(agent.claims(), key=stranger.key)),
        (agent.id, agent.sign(agent.claims("NOT_US"))),
        (agent.id, agent.sign(agent.claims(lifetime=timedelta(seconds=-1)))),
    ):
        assert await _call(stack, "POST", f"/v1/agent/{agent_id}", body) == (403, None)
    await _pair(stack, agent)
    setup = agent.sign(agent.claims())
    assert (await _call(stack, "POST", f"/v1/agent/{agent.id}", setup))[0] == 200
    assert await _call(stack, "POST", f"/v1/agent/{agent.id}", setup) == (403, None)  # replayed

    def exercise(**change: Any) -> dict[str, Any]:
        return {**agent.claims(exercise="deletion", email="grace@example.org"), **change}

    cases = {
        "forged": (agent.sign(exercise(), key=stranger.key), agent.token, 403),
        "another agent's claims": (agent.sign(exercise(**{"agent-id": stranger.id})), agent.token, 403),
        "wrong business": (agent.sign(exercise(**{"business-id": "UPJUNOO"})), agent.token, 403),
        "expired": (
            agent.sign(
                agent.claims(lifetime=timedelta(seconds=-5), exercise="deletion", email="grace@example.org")
            ),
            agent.token,
            400,
        ),  # fmt: skip
        "old version": (agent.sign(exercise(**{"drp.version": "0.9"})), agent.token, 400),
        "unknown token": (agent.sign(exercise()), "not-a-token-we-issued", 403),
        "unsupported action": (agent.sign(exercise(exercise="sale:opt-in")), agent.token, 400),
        "not base64": (b"{not signed}", agent.token, 400),
    }
    for name, (body, token, want) in cases.items():
        status, error = await _call(stack, "POST", "/v1/data-rights-request", body, token)
        assert status == want, (name, status, error)
        assert error["code"] == str(want) and error["message"] and "fatal" in error, name
        assert "grace" not in error["message"], name

    signed = agent.sign(exercise())
    status, first = await _call(stack, "POST", "/v1/data-rights-request", signed, agent.token)
    assert status == 200, first
    status, again = await _call(stack, "POST", "/v1/data-rights-request", signed, agent.token)
    assert status == 409 and again["fatal"] is True  # replayed
    # Only the one valid request was recorded, and only it was published.
    assert await _count(stack) == before + 1
    published = await stack.read_topic(
        REQUESTS_TOPIC, lambda v: (v.get("verification") or {}).get("agent_id") == agent.id, want=2, timeout=5
    )
    assert [v["request_id"] for v in published] == [first["request_id"]]


async def _count(stack: RunningStack) -> int:
    rows = await stack.fetch(stack.settings.pg_database, "SELECT count(*) AS n FROM drp_requests")
    return int(rows[0]["n"])
