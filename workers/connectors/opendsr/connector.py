"""HTTP/OpenDSR connector: hand a (request, system) to a partner company and follow it up.

First call: ``POST /requests`` with our ``subject_request_id`` and the callback URL; the
partner's ``completed`` arrives later as a signed callback (the gateway signals the waiting
workflow). Every later call (a reminder, a polling tick, an activity retry) asks
``GET /requests/{id}`` instead of sending again, and re-sends only if the partner lost it.
Cancelling sends ``DELETE /requests/{id}``. All of it is keyed by (request, system).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from schemas.vocabulary import PARTNER_CANCELLED_REASON, PARTNER_STATUSES, partner_outcome
from workers.connectors.base import Connector, ConnectorError, ConnectorResult
from workers.connectors.opendsr.client import Partner, PartnerClient, PartnerRefused, PartnerUnavailable
from workers.connectors.opendsr.protocol import callback_path, request_body
from workers.ledger.partners import PartnerStore
from workers.messages.requests import SystemTaskInput


def _time(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


class OpenDsrConnector(Connector):
    answers_later = True
    confirms_by_signed_callback = True
    withdrawable = True

    def __init__(self, store: PartnerStore, client: PartnerClient, callback_base_url: str) -> None:
        self._store = store
        self._client = client
        self._callback_base_url = callback_base_url.rstrip("/")

    async def _partner(self, task: SystemTaskInput) -> Partner:
        name = task.step.connector.get("partner")
        if not name:
            raise ConnectorError(
                f"system {task.step.system}: opendsr connector names no partner", retryable=False
            )
        row = await self._store.partner(name)
        if row is None:
            # Registration can come after the pack: keep trying, the operator sees the error.
            raise ConnectorError(f"partner {name!r} is not registered (privacyctl partners register)")
        return Partner(row["partner"], row["base_url"], row["domain"], row["certificate_pem"])

    async def locate(self, task: SystemTaskInput) -> int:
        raise ConnectorError("a partner searches its own systems", retryable=False)

    async def perform(self, task: SystemTaskInput) -> ConnectorResult:
        partner = await self._partner(task)
        sent = await self._store.claim(task.request_id, task.step.system, task.tenant, partner.name)
        subject_request_id = str(sent["subject_request_id"])
        if sent["status"] != "new":
            return await self._follow_up(task, partner, subject_request_id)
        return await self._submit(task, partner, subject_request_id)

    async def _submit(
        self, task: SystemTaskInput, partner: Partner, subject_request_id: str
    ) -> ConnectorResult:
        body = request_body(
            subject_request_id=subject_request_id,
            request_type=task.request_type,
            subject=task.subject,
            submitted_at=task.submitted_at,
            callback_url=self._callback_base_url + callback_path(task.tenant, task.step.system),
            partner_domain=partner.domain,
            details=task.details,
        )
        expected: Any = None
        signed = False
        try:
            answer = await self._client.submit(partner, body)
            expected, signed = answer.body.get("expected_completion_time"), answer.signed
        except PartnerUnavailable as exc:
            raise ConnectorError(str(exc)) from exc
        except PartnerRefused as exc:
            if exc.status != 409:  # 409: it has this request already (our earlier try got through)
                raise ConnectorError(
                    f"partner {partner.name} refused the request: {exc}", retryable=False
                ) from exc
        await self._store.submitted(subject_request_id, _time(expected))
        return ConnectorResult(
            "pending",
            evidence={
                "partner": partner.name,
                "subject_request_id": subject_request_id,
                "expected_completion_time": expected,
                "receipt_signed": signed,
            },
        )

    async def _follow_up(
        self, task: SystemTaskInput, partner: Partner, subject_request_id: str
    ) -> ConnectorResult:
        """Ask the partner where it stands; its signed ``completed`` settles the system."""
        evidence: dict[str, Any] = {"partner": partner.name, "subject_request_id": subject_request_id}
        await self._store.polled(subject_request_id)
        try:
            answer = await self._client.status(partner, subject_request_id)
        except (PartnerUnavailable, PartnerRefused) as exc:
            # No answer is not a failure of the request: it stays pending, escalation goes on.
            return ConnectorResult("pending", evidence={**evidence, "status_poll": f"no answer ({exc})"})
        if answer.status == 404:
            return await self._submit(task, partner, subject_request_id)  # the partner lost it
        answered = status = str(answer.body.get("request_status") or "")
        expected = answer.body.get("expected_completion_time")
        if status in PARTNER_STATUSES and answer.signed:
            # Only a signed answer moves our record of the partner's status; the record may already
            # be further on, moved by a signed callback that arrived meanwhile.
            status = await self._store.advance(subject_request_id, status, _time(expected))
        evidence.update(request_status=status, expected_completion_time=expected, status_signed=answer.signed)
        outcome = partner_outcome(status, task.step.action, task.request_type)
        if outcome == "refused":
            # The partner dropped the request on its own: it will not act, an operator must know.
            return ConnectorResult("refused", evidence={**evidence, "reason": PARTNER_CANCELLED_REASON})
        if outcome is not None and answer.signed:
            confirmed_by = "signed status answer" if status == answered else "signed callback"
            return ConnectorResult(outcome, evidence={**evidence, "confirmed_by": confirmed_by})
        return ConnectorResult("pending", evidence=evidence)

    async def withdraw(self, task: SystemTaskInput) -> dict[str, Any]:
        """Withdraw the request from the partner (the request was cancelled); safe to repeat."""
        partner = await self._partner(task)
        sent = await self._store.claim(task.request_id, task.step.system, task.tenant, partner.name)
        subject_request_id = str(sent["subject_request_id"])
        if sent["status"] in ("new", "completed", "cancelled"):
            return {"partner": partner.name, "cancelled": sent["status"] != "completed", "sent": False}
        try:
            answer = await self._client.cancel(partner, subject_request_id)
        except PartnerRefused as exc:
            return {"partner": partner.name, "cancelled": False, "refused": str(exc)}
        except PartnerUnavailable as exc:
            raise ConnectorError(str(exc)) from exc
        if answer.status in (200, 202, 404):
            await self._store.advance(subject_request_id, "cancelled")
        return {
            "partner": partner.name,
            "cancelled": answer.status in (200, 202, 404),
            "http_status": answer.status,
        }

    async def export(self, task: SystemTaskInput) -> ConnectorResult:
        return await self.perform(task)

    async def erase(self, task: SystemTaskInput) -> ConnectorResult:
        return await self.perform(task)
