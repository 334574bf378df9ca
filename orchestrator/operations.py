"""Operator actions on requests, the same for the HTTP API and privacyctl; each one audited.

Actions that change a running request are Temporal Updates, so a refused action (extend
twice, approve a request not awaiting verification) comes back as ``ActionRefused`` with the
workflow validator's reason, and nothing is audited for it.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from temporalio.client import Client, WorkflowExecutionStatus, WorkflowUpdateFailedError
from temporalio.service import RPCError, RPCStatusCode

from orchestrator.workflows.models import (
    ConfirmationSignal,
    OperatorDecision,
    RequestState,
    RetrySignal,
    request_workflow_id,
    system_workflow_id,
)
from orchestrator.workflows.request import RequestWorkflow
from orchestrator.workflows.system_task import SystemTaskWorkflow
from schemas.identity import subject_refs
from schemas.vocabulary import FINAL_OUTCOMES
from workers.ledger import Ledger


class ActionRefused(ValueError):
    """The action is not allowed now; the message says why (HTTP 409)."""


class NotFound(LookupError):
    """No such request, system or hold (HTTP 404)."""


class Operations:
    def __init__(self, client: Client, ledger: Ledger, ref_key: bytes) -> None:
        self._client = client
        self._ledger = ledger
        self._ref_key = ref_key  # keys subject references (schemas.identity.subject_refs)

    async def _update(self, request_id: str, update: str, decision: OperatorDecision) -> RequestState:
        if not await self._ledger.has_request(request_id):
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

    async def decide_rectification(
        self, request_id: str, accept: bool, actor: str, reason: str
    ) -> RequestState:
        """Where the policy reserves refusals (Jump: data needed for a criminal investigation)."""
        decision = OperatorDecision(actor, "accept" if accept else "refuse", reason)
        return await self._update(request_id, "decide_rectification", decision)

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

    async def retry_system(self, request_id: str, system: str, actor: str, reason: str) -> str:
        """Try a failed system again: its own workflow when it still waits (a connector
        failure), else the request's, which starts a new one (its workflow was terminated or
        timed out). Returns which of the two was asked."""
        if not reason.strip():
            raise ActionRefused("a retry needs a reason (audited)")
        if await self._ledger.system_result(request_id, system) is None:
            raise NotFound(f"request {request_id} has no system {system!r}")
        child = self._client.get_workflow_handle(system_workflow_id(request_id, system))
        try:
            running = (await child.describe()).status == WorkflowExecutionStatus.RUNNING
        except RPCError as err:
            if err.status != RPCStatusCode.NOT_FOUND:
                raise
            running = False
        if running:
            await child.signal(SystemTaskWorkflow.retry, RetrySignal(reason))
            asked = "system workflow"
        else:
            request = self._client.get_workflow_handle(request_workflow_id(request_id))
            try:
                await request.signal(RequestWorkflow.retry_system, RetrySignal(reason, system))
            except RPCError as err:
                if err.status == RPCStatusCode.NOT_FOUND:
                    raise ActionRefused("the request is closed: nothing to retry") from err
                raise
            asked = "request workflow"
        await self._ledger.audit.record(actor, "retry_system", request_id, reason, {"system": system})
        return asked

    async def place_hold(self, tenant: str, subject: dict[str, str], actor: str, reason: str) -> str:
        """A legal hold on a subject: their erasures wait until it is released."""
        if not subject:
            raise ActionRefused("a hold needs at least one identity of the subject")
        if not reason.strip():
            raise ActionRefused("a hold needs its legal reason (e.g. judicial proceedings)")
        hold_id = await self._ledger.holds.place(
            tenant, subject_refs(self._ref_key, tenant, subject), reason, actor
        )
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
        for workflow_id in await self._ledger.lookups.open_requests_of_subject(
            released["tenant"], released["subject_refs"]
        ):
            try:
                await self._client.get_workflow_handle(workflow_id).signal(RequestWorkflow.hold_released)
                told += 1
            except RPCError as err:
                if err.status != RPCStatusCode.NOT_FOUND:
                    raise
        return told


class Directives:
    """Post-mortem directives: record them, and turn them into requests when a death is notified.

    The requests go through the normal intake (Kafka) like any other, so the tenant's identity
    rule applies (J2S: an operator checks the death certificate). Request ids are derived from
    the directive, so notifying a death twice never makes a second request.
    """

    def __init__(self, ledger: Ledger, packs: dict[str, Any], publish: Any, ref_key: bytes) -> None:
        self._ledger = ledger
        self._ref_key = ref_key
        self._packs = packs
        self._publish = publish  # async (topic, key, value) -> None

    def _rule(self, tenant: str) -> dict[str, Any]:
        pack = self._packs.get(tenant)
        if pack is None:
            raise NotFound(f"no tenant {tenant!r}")
        rule = pack.document.get("post_mortem_directives")
        if not rule:
            raise ActionRefused(f"the {tenant} policy provides no post-mortem directives")
        return dict(rule)

    async def record(
        self, tenant: str, subject: dict[str, str], request_type: str, beneficiary: str, actor: str
    ) -> str:
        rule = self._rule(tenant)
        if request_type not in rule["request_types"]:
            raise ActionRefused(f"a directive may ask for {rule['request_types']}, not {request_type!r}")
        if not subject:
            raise ActionRefused("a directive needs at least one identity of the subject")
        directive_id = await self._ledger.directives.record(
            tenant, subject_refs(self._ref_key, tenant, subject), subject, request_type, beneficiary, actor
        )
        await self._ledger.audit.record(
            actor, "record_directive", None, beneficiary, {"directive_id": directive_id}
        )
        return directive_id

    async def notify_death(
        self, tenant: str, subject: dict[str, str], actor: str, evidence: str
    ) -> list[str]:
        """Publish one request per directive of the deceased; returns their request ids."""
        from schemas import REQUESTS_TOPIC

        self._rule(tenant)
        if not evidence.strip():
            raise ActionRefused(
                "a death notification needs its evidence (e.g. a death certificate reference)"
            )
        pack = self._packs[tenant]
        request_ids = []
        for directive in await self._ledger.directives.for_subject(
            tenant, subject_refs(self._ref_key, tenant, subject)
        ):
            request_id = str(
                uuid.uuid5(uuid.NAMESPACE_URL, f"post-mortem-directive:{directive['directive_id']}")
            )
            await self._publish(
                REQUESTS_TOPIC,
                request_id,
                {
                    "request_id": request_id,
                    "tenant": tenant,
                    "type": directive["request_type"],
                    "subject": directive["subject"],
                    "jurisdiction": pack.document["jurisdictions"][0],
                    "submitted_at": datetime.now(UTC).isoformat(),
                    "channel": "post_mortem_directive",
                    "details": {
                        "directive_id": directive["directive_id"],
                        "beneficiary": directive["beneficiary"],
                    },
                    "verification": {"document": f"death notified: {evidence}"},
                },
            )
            await self._ledger.directives.mark_executed(directive["directive_id"], request_id)
            request_ids.append(request_id)
        await self._ledger.audit.record(actor, "notify_death", None, evidence, {"requests": request_ids})
        return request_ids
