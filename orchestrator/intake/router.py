"""The side effects of intake: record the request, start its workflow, route confirmations.

Everything here is safe to repeat: Kafka delivers at least once, so a request seen twice
finds its ledger row and its workflow already there (Temporal's workflow-id uniqueness is
the de-duplication), and a confirmation seen twice is ignored by the waiting workflow.
"""

from __future__ import annotations

import dataclasses
import logging

from temporalio.client import Client
from temporalio.common import (
    SearchAttributePair,
    TypedSearchAttributes,
    WorkflowIDConflictPolicy,
    WorkflowIDReusePolicy,
)
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from orchestrator.intake.admission import Admission
from orchestrator.intake.binding import check_binding
from orchestrator.policy.packs import PolicyPack
from orchestrator.workflows import search
from orchestrator.workflows.consent_batch import ConsentBatchWorkflow
from orchestrator.workflows.models import (
    ConfirmationSignal,
    consent_workflow_id,
    request_workflow_id,
    system_workflow_id,
)
from orchestrator.workflows.request import RequestWorkflow
from schemas import ContractViolation
from schemas.models import Confirmation
from workers.ledger import Ledger
from workers.messages.consent import BatchConfirmation, ConsentBatch, ConsentEntry, entries_to_json
from workers.runtime.codec import AesGcmCodec
from workers.runtime.task_ids import CONSENT_BATCH_TASK, REQUEST_TASK, TaskIds

log = logging.getLogger(__name__)


class IntakeRouter:
    def __init__(
        self, client: Client, ledger: Ledger, task_queue: str, codec: AesGcmCodec,
        packs: dict[str, PolicyPack], task_ids: TaskIds,
    ) -> None:  # fmt: skip
        self._client = client
        self._ledger = ledger
        self._task_queue = task_queue
        self._codec = codec
        self._packs = packs
        self._task_ids = task_ids

    async def start_request(self, admission: Admission) -> bool:
        """Record and start; False when this request_id was already started before."""
        request = admission.request
        workflow_id = request_workflow_id(request.request_id)
        created = await self._ledger.record_request(
            request_id=request.request_id,
            tenant=request.tenant,
            request_type=request.type,
            jurisdiction=request.jurisdiction,
            submitted_at=request.submitted_at,
            due_at=admission.due_at,
            deadline_basis=admission.deadline_basis,
            workflow_id=workflow_id,
            subject_refs=admission.workflow_input.subject_refs,
            details_digest=admission.workflow_input.details_digest,
        )
        if admission.identity_document:
            await self._ledger.holds.keep_document(request.request_id, admission.identity_document)
        attributes = TypedSearchAttributes(
            [
                SearchAttributePair(search.TENANT, request.tenant),
                SearchAttributePair(search.REQUEST_TYPE, request.type),
                SearchAttributePair(search.JURISDICTION, request.jurisdiction),
                SearchAttributePair(search.STATUS, "received"),
                SearchAttributePair(search.DUE_AT, admission.due_at),
                SearchAttributePair(search.OVERDUE, False),
            ]
        )
        try:
            await self._client.start_workflow(
                RequestWorkflow.run,
                admission.workflow_input,
                id=workflow_id,
                task_queue=self._task_queue,
                id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
                id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
                search_attributes=attributes,
                memo={
                    "summary": f"{request.type} request for tenant {request.tenant} ({request.jurisdiction})"
                },
            )
        except WorkflowAlreadyStartedError:
            log.info("request %s already handled (duplicate delivery)", request.request_id)
            return False
        log.info(
            "request %s %s: tenant=%s type=%s systems=%d",
            request.request_id,
            "started" if created else "re-delivered",
            request.tenant,
            request.type,
            len(admission.workflow_input.steps),
        )
        return created

    async def start_consent_batch(self, batch: ConsentBatch, entries: list[ConsentEntry]) -> None:
        """Keep the changes (encrypted), then start the batch's workflow once; a window delivered
        twice finds both already there."""
        key_id, sealed = self._codec.seal(entries_to_json(entries), batch.batch_id)
        # The changes and the suppression list go in with the sealed batch, in one transaction:
        # the intake holds them decoded already, and the workflow goes straight to the systems.
        await self._ledger.consent.keep_batch(
            batch.batch_id, batch.tenant, len(entries), key_id, sealed, entries=entries
        )
        batch = dataclasses.replace(batch, recorded=True)
        attributes = TypedSearchAttributes(
            [
                SearchAttributePair(search.TENANT, batch.tenant),
                SearchAttributePair(search.REQUEST_TYPE, "consent_batch"),
            ]
        )
        withdrawals = sum(1 for entry in entries if entry.action == "withdraw")
        try:
            await self._client.start_workflow(
                ConsentBatchWorkflow.run,
                batch,
                id=consent_workflow_id(batch.batch_id),
                task_queue=self._task_queue,
                id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
                id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
                search_attributes=attributes,
                memo={
                    "summary": f"consent batch for tenant {batch.tenant}: {withdrawals} withdrawal(s), "
                    f"{len(entries) - withdrawals} grant(s), {len(batch.systems)} system(s)"
                },
            )
        except WorkflowAlreadyStartedError:
            log.info("consent batch %s already handled (duplicate delivery)", batch.batch_id)

    async def route_confirmation(self, confirmation: Confirmation) -> None:
        """Hand a system's answer to its waiting workflow; ContractViolation if it has none, or
        if it does not answer the task sent to that system (``check_binding``)."""
        known = await self._ledger.system_result(confirmation.request_id, confirmation.system)
        if known is None:
            batch_tenant = await self._ledger.consent.batch_tenant(confirmation.request_id)
            if batch_tenant is not None:
                check_binding(
                    confirmation, scope=CONSENT_BATCH_TASK, tenant=batch_tenant,
                    pack=self._packs.get(batch_tenant), task_ids=self._task_ids,
                )  # fmt: skip
                await self._route_batch_confirmation(confirmation)
                return
        request = await self._ledger.request(confirmation.request_id)
        if request is None:
            raise ContractViolation("unknown_request", f"request_id: {confirmation.request_id} is not known")
        if known is None:
            raise ContractViolation(
                "unknown_system", f"system: {confirmation.system!r} has no part in this request"
            )
        check_binding(
            confirmation, scope=REQUEST_TASK, tenant=request["tenant"],
            pack=self._packs.get(request["tenant"]), task_ids=self._task_ids,
        )  # fmt: skip
        if confirmation.records:
            # Records go to the ledger, not into workflow history: history stays small.
            await self._ledger.store_records(
                confirmation.request_id, confirmation.system, confirmation.records
            )
        handle = self._client.get_workflow_handle(
            system_workflow_id(confirmation.request_id, confirmation.system)
        )
        try:
            await handle.signal(
                "confirm",
                ConfirmationSignal(
                    outcome=confirmation.outcome,
                    at=confirmation.at.isoformat(),
                    evidence=confirmation.evidence,
                    legal_basis=confirmation.legal_basis,
                    retained_until=confirmation.retained_until,
                    reason=confirmation.reason,
                    record_count=len(confirmation.records),
                ),
            )
        except RPCError as err:
            if err.status != RPCStatusCode.NOT_FOUND:
                raise
            # The system's workflow already closed: a duplicate or late repeat. Nothing to do.
            log.info(
                "request %s system %s: late or duplicate confirmation ignored",
                confirmation.request_id,
                confirmation.system,
            )

    async def _route_batch_confirmation(self, confirmation: Confirmation) -> None:
        handle = self._client.get_workflow_handle(consent_workflow_id(confirmation.request_id))
        try:
            await handle.signal(
                "confirm_system",
                BatchConfirmation(
                    system=confirmation.system,
                    outcome=confirmation.outcome,
                    at=confirmation.at.isoformat(),
                    evidence=confirmation.evidence,
                    reason=confirmation.reason,
                ),
            )
        except RPCError as err:
            if err.status != RPCStatusCode.NOT_FOUND:
                raise
            log.info("consent batch %s: late or duplicate confirmation ignored", confirmation.request_id)
