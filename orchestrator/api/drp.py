"""The Data Rights Protocol 1.0 gateway: authorised agents' signed requests in, our requests out.

``POST /v1/agent/{agent_id}``                 pairwise key set-up (signed): a fresh bearer token
``GET /v1/agent/{agent_id}``                  is my token still good? ``{}`` or 403
``POST /v1/data-rights-request``              a signed exercise → a privacy.requests.v1 event
``GET /v1/data-rights-request/{request_id}``  the Exercise Status object (only to its agent)
``DELETE /v1/data-rights-request/{request_id}`` signed revocation: the workflow is cancelled

Agents authenticate by signatures and pairwise tokens, not by our API tokens. A submission
becomes an ordinary ``privacy.requests.v1`` event (``channel: "drp"``, the agent in
``verification.agent``), so the intake starts it as any request and the tenant's identity
rule decides whether the agent's mandate is checked first. Which tenant a DRP business id
serves is configuration (``PRIVACY_DRP_BUSINESSES``); agents' keys come from the directory
entries we trust (``PRIVACY_DRP_AGENTS``, ``privacyctl drp trust-agent``). Refusals are the
spec's ``{code, message, fatal}``, logged with the agent id and the reason only; nothing is
started for them. Status callbacks are sent by ``orchestrator.api.drp_notify``.

When the agent vouched for fewer identities than the tenant's rule asks (``identity.agent_verified``),
the event carries ``verification.user_verification`` with the time the person has until; the
status then answers ``in_progress``/``need_user_verification`` with our ``user_verification_url``,
the page of ``orchestrator.api.drp_verification``.
"""

from __future__ import annotations

import logging
import secrets
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from orchestrator.api.drp_protocol import (
    EXERCISES,
    Directory,
    Refusal,
    StatusContext,
    check_claims,
    decode_signed,
    drp_status,
    jurisdiction_of,
    open_signed,
    subject_of,
)
from orchestrator.operations import ActionRefused, NotFound, Operations
from orchestrator.policy.identity import identities_to_verify, user_verification_until
from orchestrator.policy.retention import own_copies_period
from schemas import REQUESTS_TOPIC, ContractViolation, validate
from workers.ledger import Ledger

log = logging.getLogger("privacy.drp")

Publish = Callable[[str, str, dict[str, Any]], Awaitable[None]]


class DrpGateway:
    def __init__(
        self,
        ledger: Ledger,
        directory: Directory,
        publish: Publish,
        operations: Operations | None,
        packs: dict[str, Any],
        verification_base: str = "",
    ) -> None:
        self._ledger = ledger
        self._directory = directory
        self._publish = publish
        self._operations = operations
        self._packs = packs
        self.context = status_context(packs, verification_base)

    # --- pairwise key set-up ----------------------------------------------------------------

    async def set_up_agent(self, agent_id: str, body: bytes) -> dict[str, Any]:
        """Verify the signed set-up message; answer a fresh opaque bearer token for this pair."""
        signed = decode_signed(body)
        agent = self._directory.agent(agent_id)
        if agent is None:
            raise Refusal(403, "unknown agent: not in the directory of agents this business trusts")
        claims = open_signed(signed, agent)
        served = self._directory.businesses.entries()
        expires = check_claims(claims, agent_id, served, datetime.now(UTC))
        business_id = str(claims["business-id"])
        if not await self._ledger.drp.first_sight(signed, agent_id, "agent-setup", expires):
            raise Refusal(403, "replayed: this signed set-up message was presented before")
        token = secrets.token_urlsafe(32)
        await self._ledger.drp.keep_token(token, agent_id, business_id)
        log.info("drp agent paired: agent=%s business=%s", agent_id, business_id)
        return {"agent-id": agent_id, "token": token}

    async def holder(self, authorization: str, agent_id: str | None = None) -> tuple[str, str]:
        """(agent_id, business_id) of the bearer token; 403 for none, an unknown one, another agent's."""
        token = authorization[7:].strip() if authorization.lower().startswith("bearer ") else ""
        found = await self._ledger.drp.token_holder(token) if token else None
        if found is None:
            raise Refusal(403, "missing or unknown bearer token: set up a pairwise key first", False)
        if agent_id is not None and found[0] != agent_id:
            raise Refusal(403, "this token belongs to another agent")
        if self._directory.agent(found[0]) is None:
            raise Refusal(403, "unknown agent: no longer in the directory of agents this business trusts")
        return found

    # --- exercise, status, revoke -------------------------------------------------------------

    async def submit(self, authorization: str, body: bytes) -> dict[str, Any]:
        signed = decode_signed(body)
        agent_id, business_id = await self.holder(authorization)
        agent = self._directory.agent(agent_id) or {}
        claims = open_signed(signed, agent)
        expires = check_claims(claims, agent_id, {business_id}, datetime.now(UTC))
        business = self._directory.business(business_id)
        if business is None:
            raise Refusal(403, "wrong business: this business is no longer served here")
        event = self._event(claims, agent, business)
        if not await self._ledger.drp.first_sight(signed, agent_id, "data-rights-request", expires):
            raise Refusal(409, "replayed: this signed request was submitted before")
        callback = claims.get("status_callback")
        user = event["verification"].get("user_verification")
        received = await self._ledger.drp.record_request(
            event["request_id"], agent_id, business_id, business["tenant"],
            _text(claims.get("agent-request-id")), claims["exercise"],
            callback if isinstance(callback, str) and callback.startswith(("http://", "https://")) else None,
            datetime.fromisoformat(user["until"]) if user else None,
        )  # fmt: skip
        try:
            await self._publish(REQUESTS_TOPIC, event["request_id"], event)
        except Exception as exc:  # noqa: BLE001 - the broker is down: nothing started, the agent retries
            await self._ledger.drp.forget_request(event["request_id"])
            log.warning("drp request not published (%s): agent=%s", type(exc).__name__, agent_id)
            raise Refusal(503, "the business cannot take requests right now: retry", False) from None
        log.info("drp request received: agent=%s request_id=%s type=%s", agent_id, event["request_id"],
                 event["type"])  # fmt: skip
        found = await self._ledger.drp.request(event["request_id"])
        return drp_status(found or {"request_id": event["request_id"], "received_at": received}, self.context)

    def _event(
        self, claims: dict[str, Any], agent: dict[str, Any], business: dict[str, Any]
    ) -> dict[str, Any]:
        """The privacy.requests.v1 event for a verified exercise (validated against the contract)."""
        exercise = claims.get("exercise")
        supported = set(business.get("supported_actions") or EXERCISES)
        if exercise not in EXERCISES or exercise not in supported:
            raise Refusal(400, f"unsupported rights action: this business supports {sorted(supported)}")
        subject, verified = subject_of(claims)
        tenant = business["tenant"]
        details: dict[str, Any] = {}
        if exercise == "sale:opt-out":
            pack = self._packs.get(tenant)
            gpc = (pack.document.get("gpc") if pack is not None else None) or {}
            if not gpc.get("purposes"):
                raise Refusal(
                    400, "unsupported rights action: this business maps no purposes to sale:opt-out"
                )
            details["purposes"] = list(gpc["purposes"])
        pack = self._packs.get(tenant)
        kind = EXERCISES[exercise]
        unverified = identities_to_verify(pack, kind, subject, verified) if pack is not None else []
        now = datetime.now(UTC)
        event = {
            "request_id": str(uuid.uuid4()),
            "tenant": tenant,
            "type": kind,
            "subject": subject,
            "jurisdiction": jurisdiction_of(claims, business),
            "submitted_at": now.isoformat(),
            "channel": "drp",
            "details": details,
            # The tenant's identity rule decides what an agent's request needs (a mandate check);
            # what the agent attests travels with it for the operator who checks.
            "verification": {
                "agent": agent.get("name") or agent["id"],
                "agent_id": agent["id"],
                "agent_identity_assurance": agent.get("identity_assurance_url"),
                "agent_verified": verified,
                "drp_business_id": business["id"],
            },
        }
        if unverified and pack is not None:
            # Below the tenant's rule: the person verifies with us, until this time (need_user_verification).
            until = user_verification_until(pack, now)
            event["verification"]["user_verification"] = {
                "identities": unverified,
                "until": until.isoformat(),
            }
        try:
            validate(REQUESTS_TOPIC, event)
        except ContractViolation as exc:
            raise Refusal(400, f"the request cannot be accepted: {exc.reason}") from None
        return event

    async def status(self, authorization: str, request_id: str) -> dict[str, Any]:
        agent_id, _ = await self.holder(authorization)
        return drp_status(await self._own(agent_id, request_id), self.context)

    async def _own(self, agent_id: str, request_id: str) -> dict[str, Any]:
        try:
            request_id = str(uuid.UUID(request_id))
        except ValueError:
            raise Refusal(404, "no such request", False) from None
        found = await self._ledger.drp.request(request_id)
        if found is None:
            raise Refusal(404, "no such request", False)
        if found["agent_id"] != agent_id:
            raise Refusal(403, "this request is managed by another agent", False)
        return found

    async def revoke(self, authorization: str, request_id: str, body: bytes) -> dict[str, Any]:
        signed = decode_signed(body)
        agent_id, _ = await self.holder(authorization)
        open_signed(signed, self._directory.agent(agent_id) or {})  # only the agent revokes
        found = await self._own(agent_id, request_id)
        if found["revoked_at"] is not None:
            return drp_status(found, self.context)
        if self._operations is None:
            raise Refusal(503, "revocation is not available on this API", False)
        await self._ledger.drp.mark_revoked(found["request_id"], True)
        try:
            await self._operations.cancel(
                found["request_id"], f"drp-agent:{agent_id}", "revoked by the agent"
            )
        except (NotFound, ActionRefused) as exc:
            await self._ledger.drp.mark_revoked(found["request_id"], False)
            still_open = isinstance(exc, NotFound)
            raise Refusal(
                409,
                "the request is not started yet: retry in a moment"
                if still_open
                else f"the request can no longer be revoked: {exc}",
                fatal=False,
            ) from None
        log.info("drp request revoked: agent=%s request_id=%s", agent_id, found["request_id"])
        return drp_status(await self._ledger.drp.request(found["request_id"]) or found, self.context)


def status_context(packs: dict[str, Any], verification_base: str) -> StatusContext:
    """Where the person verifies, and how long each tenant keeps a fulfilled request's results."""
    return StatusContext(
        verification_base, {tenant: own_copies_period(pack) for tenant, pack in packs.items()}
    )


def _text(value: Any) -> str | None:
    return value[:256] if isinstance(value, str) and value else None


GATEWAY = web.AppKey("drp_gateway", DrpGateway)


def _answer(run: Callable[[web.Request], Awaitable[dict[str, Any]]]) -> Callable[..., Any]:
    async def handler(request: web.Request) -> web.Response:
        try:
            return web.json_response(await run(request))
        except Refusal as refusal:
            # The agent and the reason's kind only: a path may carry ids, a message never holds claims.
            log.warning("drp refused: %s status=%s reason=%s", run.__name__, refusal.status,
                        refusal.message.split(":")[0])  # fmt: skip
            return web.json_response(refusal.body(), status=refusal.status)

    return handler


async def set_up_agent(request: web.Request) -> web.Response:
    try:
        answer = await request.app[GATEWAY].set_up_agent(request.match_info["agent_id"], await request.read())
    except Refusal as refusal:
        # The spec: a failed set-up is a 403 with no body, resolved out of band.
        log.warning("drp key set-up refused: reason=%s", refusal.message.split(":")[0])
        return web.Response(status=403)
    return web.json_response(answer)


@_answer
async def agent_information(request: web.Request) -> dict[str, Any]:
    await request.app[GATEWAY].holder(
        request.headers.get("Authorization", ""), request.match_info["agent_id"]
    )
    return {}


@_answer
async def submit(request: web.Request) -> dict[str, Any]:
    return await request.app[GATEWAY].submit(request.headers.get("Authorization", ""), await request.read())


@_answer
async def status(request: web.Request) -> dict[str, Any]:
    return await request.app[GATEWAY].status(
        request.headers.get("Authorization", ""), request.match_info["request_id"]
    )


@_answer
async def revoke(request: web.Request) -> dict[str, Any]:
    return await request.app[GATEWAY].revoke(
        request.headers.get("Authorization", ""), request.match_info["request_id"], await request.read()
    )


def add_drp_routes(app: web.Application, gateway: DrpGateway) -> None:
    """Agents are authenticated by their signatures and pairwise tokens, not by API tokens."""
    app[GATEWAY] = gateway
    app.router.add_post("/v1/agent/{agent_id}", set_up_agent)
    app.router.add_get("/v1/agent/{agent_id}", agent_information)
    app.router.add_post("/v1/data-rights-request", submit)
    app.router.add_get("/v1/data-rights-request/{request_id}", status)
    app.router.add_delete("/v1/data-rights-request/{request_id}", revoke)
