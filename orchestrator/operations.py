"""Operator actions on requests, the same for the HTTP API and privacyctl; each one audited.

Actions that change a running request are Temporal Updates, so a refused action (extend
twice, approve a request not awaiting verification) comes back as ``ActionRefused`` with the
workflow validator's reason, and nothing is audited for it.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from temporalio.client import Client, WorkflowUpdateFailedError
from temporalio.service import RPCError, RPCStatusCode

from orchestrator.workflows.models import (
    ConfirmationSignal,
    OperatorDecision,
    RequestState,
    request_workflow_id,
    system_workflow_id,
)
from workers.ledger import Ledger
from workers.messages import FINAL_OUTCOMES
from workers.subject_refs import subject_refs


class ActionRefused(ValueError):
    """The action is not allowed now; the message says why (HTTP 409)."""


class NotFound(LookupError):
    """No such request, system or hold (HTTP 404)."""


class Operations:
    def __init__(self, client: Client, ledger: Ledger) -> None:
        self._client = client
        self._ledger = ledger

    async def _update(self, request_id: str, update: str, decision: OperatorDecision) -> RequestState:
        if await self._ledger.request(request_id) is None:
            raise NotFound(f"no request with request_id {request_id}")
        handle = self._client.get_workflow_handle(request_workflow_id(request_id))
        try:
            state: RequestState = await handle.execute_update(update, decision, result_type=RequestState)
        except WorkflowUpdateFailedError as err:
            raise ActionRefused(str(err.cause or err)) from err
        except RPCError as err:
            if err.status == RPCStatusCode.NOT_FOUND:
                raise ActionRefused("the request is closed: no action can change it now") from err
            raise
        await self._ledger.audit.record(
            decision.actor, update, request_id, decision.reason, {"decision": decision.decision}
        )
        return state

    async def verify(self, request_id: str, approve: bool, actor: str, reason: str) -> RequestState:
        decision = OperatorDecision(actor, "approve" if approve else "deny", reason)
        return await self._update(request_id, "verify", decision)

    async def decide_objection(self, request_id: str, accept: bool, actor: str, reason: str) -> RequestState:
        decision = OperatorDecision(actor, "accept" if accept else "refuse", reason)
        return await self._update(request_id, "decide_objection", decision)

    async def extend(self, request_id: str, actor: str, reason: str) -> RequestState:
        return await self._update(request_id, "extend", OperatorDecision(actor, "extend", reason))

    async def cancel(self, request_id: str, actor: str, reason: str) -> RequestState:
        return await self._update(request_id, "cancel", OperatorDecision(actor, "cancel", reason))

    async def confirm_system(
        self, request_id: str, system: str, outcome: str, actor: str, note: str, evidence: dict[str, Any]
    ) -> None:
        """An operator confirms a manual step (a system without an API) with its outcome."""
        if outcome not in FINAL_OUTCOMES:
            raise ActionRefused(f"outcome must be one of {sorted(FINAL_OUTCOMES)}")
        if await self._ledger.system_result(request_id, system) is None:
            raise NotFound(f"request {request_id} has no system {system!r}")
        handle = self._client.get_workflow_handle(system_workflow_id(request_id, system))
        try:
            await handle.signal(
                "confirm",
                ConfirmationSignal(
                    outcome=outcome,
                    at=datetime.now(UTC).isoformat(),
                    evidence={**evidence, "confirmed_by": actor, "note": note},
                    reason=note if outcome == "refused" else None,
                ),
            )
        except RPCError as err:
            if err.status == RPCStatusCode.NOT_FOUND:
                raise ActionRefused(f"system {system} of request {request_id} already answered") from err
            raise
        await self._ledger.audit.record(
            actor, "confirm_system", request_id, note, {"system": system, "outcome": outcome}
        )

    async def place_hold(self, tenant: str, subject: dict[str, str], actor: str, reason: str) -> str:
        """A legal hold on a subject: their erasures wait until it is released."""
        if not subject:
            raise ActionRefused("a hold needs at least one identity of the subject")
        if not reason.strip():
            raise ActionRefused("a hold needs its legal reason (e.g. judicial proceedings)")
        hold_id = await self._ledger.holds.place(tenant, subject_refs(tenant, subject), reason, actor)
        await self._ledger.audit.record(
            actor, "place_hold", None, reason, {"hold_id": hold_id, "tenant": tenant}
        )
        return hold_id

    async def release_hold(self, hold_id: str, actor: str, reason: str) -> int:
        """Release a hold and wake the subject's open requests; returns how many were told."""
        released = await self._ledger.holds.release(hold_id, actor, reason)
        if released is None:
            raise NotFound(f"no active hold {hold_id}")
        await self._ledger.audit.record(actor, "release_hold", None, reason, {"hold_id": hold_id})
        told = 0
        for workflow_id in await self._ledger.open_requests_of_subject(
            released["tenant"], released["subject_refs"]
        ):
            try:
                await self._client.get_workflow_handle(workflow_id).signal("hold_released")
                told += 1
            except RPCError as err:
                if err.status != RPCStatusCode.NOT_FOUND:
                    raise
        return told
