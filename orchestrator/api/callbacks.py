"""The partner-callback gateway: signed OpenDSR callbacks in, workflow updates out.

``POST /opendsr/v2/callbacks/{tenant}/{system}`` — the URL each request gives its partner.

In order, as the protocol asks: the processor domain names a registered partner; the
signature over the raw body verifies with that partner's certificate (the body is not
parsed before); the body's ``status_callback_url`` is this very URL; its signed
``sent_time`` is recent (a replayed old callback is refused); the ``subject_request_id``
was sent by us to this partner for this tenant and system. Anything else is a 403 with the
reason, logged without personal data. A valid callback is kept as evidence and handed to
the system's workflow as an Update, so the partner gets a true answer: 200 when recorded,
409 when the workflow refuses it. When no worker answers in time, a Signal is sent instead
(202): it never blocks on workers and is applied when one comes back.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from aiohttp import web
from temporalio.client import Client, WorkflowUpdateFailedError, WorkflowUpdateRPCTimeoutOrCancelledError
from temporalio.service import RPCError, RPCStatusCode

from orchestrator.workflows.models import PartnerStatusUpdate, system_workflow_id
from orchestrator.workflows.system_task import SystemTaskWorkflow
from workers.connectors.opendsr.protocol import (
    Callback,
    callback_path,
    parse_callback,
    staleness,
)
from workers.connectors.opendsr.signatures import read_headers, verify
from workers.ledger import Ledger
from workers.runtime.metrics import PARTNER_CALLBACKS

log = logging.getLogger("privacy.callbacks")


@dataclass(frozen=True)
class Verdict:
    status: int
    message: str
    result: str = ""

    def response(self) -> web.Response:
        body: dict[str, Any] = {"result": self.result} if self.status < 400 else {"error": self.message}
        if self.status < 400:
            body["message"] = self.message
        return web.json_response(body, status=self.status)


class CallbackGateway:
    def __init__(
        self,
        ledger: Ledger,
        client: Client,
        callback_base_url: str,
        max_age: timedelta = timedelta(minutes=10),
        max_skew: timedelta = timedelta(minutes=2),
        update_timeout: timedelta = timedelta(seconds=10),
    ) -> None:
        self._ledger = ledger
        self._client = client
        self._base = callback_base_url.rstrip("/")
        self._max_age = max_age
        self._max_skew = max_skew
        self._update_timeout = update_timeout

    async def receive(self, tenant: str, system: str, raw: bytes, headers: Any) -> Verdict:
        signed = read_headers(headers)
        if not signed.signature:
            return self._refuse(tenant, system, "unsigned: no X-OpenDSR-Signature header")
        if not signed.domain:
            return self._refuse(tenant, system, "no X-OpenDSR-Processor-Domain header: the signer is unknown")
        partner = await self._ledger.partners.partner_by_domain(signed.domain)
        if partner is None:
            return self._refuse(
                tenant, system, f"unknown partner: domain {signed.domain!r} is not registered"
            )
        if not verify(partner["certificate_pem"].encode(), raw, signed.signature):
            return self._refuse(
                tenant, system, f"forged: the signature does not verify for {partner['partner']}"
            )
        try:
            parsed = parse_callback(json.loads(raw))
        except ValueError:
            parsed = "the body is not JSON"
        if isinstance(parsed, str):
            return Verdict(400, f"malformed callback: {parsed}")
        expected_url = self._base + callback_path(tenant, system)
        if parsed.status_callback_url != expected_url:
            return self._refuse(tenant, system, "status_callback_url is not this callback endpoint")
        stale = staleness(parsed.sent_time, datetime.now(UTC), self._max_age, self._max_skew)
        if stale:
            return self._refuse(tenant, system, f"stale: {stale}")
        sent = await self._ledger.partners.sent_request(parsed.subject_request_id)
        if sent is None:
            return self._refuse(tenant, system, "unknown subject_request_id: no such request was sent")
        if (sent["partner"], sent["tenant"], sent["system"]) != (partner["partner"], tenant, system):
            return self._refuse(
                tenant, system, f"wrong partner: this request was not sent to {partner['partner']}"
            )
        return await self._apply(sent, partner["partner"], parsed, raw, signed.signature)

    async def _apply(
        self, sent: Any, partner: str, callback: Callback, raw: bytes, signature: str
    ) -> Verdict:
        digest = hashlib.sha256(raw).hexdigest()
        store = self._ledger.partners
        fresh = await store.keep_callback(
            digest, callback.subject_request_id, callback.request_status, callback.sent_time, signature,
            json.loads(raw),
        )  # fmt: skip
        status = await store.advance(callback.subject_request_id, callback.request_status)
        if not fresh:
            PARTNER_CALLBACKS.add(1, {"partner": partner, "result": "duplicate"})
            return Verdict(200, "duplicate callback: already recorded, nothing changed", "duplicate")
        update = PartnerStatusUpdate(
            subject_request_id=callback.subject_request_id,
            request_status=callback.request_status,
            sent_time=callback.sent_time.isoformat(),
            evidence={"partner": partner, "callback_digest": digest},
        )
        handle = self._client.get_workflow_handle(system_workflow_id(str(sent["request_id"]), sent["system"]))
        try:
            verdict = await self._deliver(handle, sent, partner, update, status)
        except Exception as exc:  # noqa: BLE001 - Temporal unreachable: the partner must retry
            log.warning("callback kept but not applied yet (%s): partner=%s", type(exc).__name__, partner)
            PARTNER_CALLBACKS.add(1, {"partner": partner, "result": "retry later"})
            return Verdict(503, "kept, but the request cannot take it right now: send it again later")
        # Only now is the callback done with: a partner retrying one that failed here gets it applied.
        await store.applied(digest)
        return verdict

    async def _deliver(
        self, handle: Any, sent: Any, partner: str, update: PartnerStatusUpdate, status: str
    ) -> Verdict:
        try:
            result = await handle.execute_update(
                "partner_status", update, result_type=str, rpc_timeout=self._update_timeout
            )
        except WorkflowUpdateFailedError as err:
            return Verdict(409, f"refused by the request: {err.cause or err}")
        except WorkflowUpdateRPCTimeoutOrCancelledError:
            return await self._signal_instead(handle, sent, update, status)
        except RPCError as err:
            if err.status == RPCStatusCode.NOT_FOUND:  # the system's part is closed already
                PARTNER_CALLBACKS.add(1, {"partner": partner, "result": "after close"})
                return Verdict(
                    200, f"the system's part is already closed; partner status now {status}", "closed"
                )
            if err.status in (RPCStatusCode.DEADLINE_EXCEEDED, RPCStatusCode.UNAVAILABLE):
                return await self._signal_instead(handle, sent, update, status)
            raise
        log.info("callback accepted: partner=%s status=%s result=%s", partner, update.request_status, result)
        PARTNER_CALLBACKS.add(1, {"partner": partner, "result": f"accepted {update.request_status}"})
        return Verdict(200, f"recorded: {result}", result)

    async def _signal_instead(
        self, handle: Any, sent: Any, update: PartnerStatusUpdate, status: str
    ) -> Verdict:
        """No worker answered in time: a final status still reaches the workflow, by Signal."""
        PARTNER_CALLBACKS.add(1, {"partner": str(sent["partner"]), "result": "queued"})
        await handle.signal(SystemTaskWorkflow.partner_status_queued, update)
        return Verdict(
            202, f"accepted; the request will apply it when its worker is back (status {status})", "queued"
        )

    def _refuse(self, tenant: str, system: str, reason: str) -> Verdict:
        log.warning("callback refused: tenant=%s system=%s reason=%s", tenant, system, reason)
        # The reason's kind only (unsigned, forged, stale, ...): its text may quote a sender's header.
        PARTNER_CALLBACKS.add(1, {"partner": "unverified", "result": "refused " + reason.split(":")[0]})
        return Verdict(403, reason)


GATEWAY = web.AppKey("callback_gateway", CallbackGateway)


async def receive_callback(request: web.Request) -> web.Response:
    raw = await request.read()
    verdict = await request.app[GATEWAY].receive(
        request.match_info["tenant"], request.match_info["system"], raw, request.headers
    )
    return verdict.response()


def add_callback_routes(app: web.Application, gateway: CallbackGateway) -> None:
    """Partners are authenticated by their signatures, not by API tokens."""
    app[GATEWAY] = gateway
    app.router.add_post("/opendsr/v2/callbacks/{tenant}/{system}", receive_callback)
