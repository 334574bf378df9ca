"""Temporal activities: every piece of I/O a request needs, keyed by (request, system).

Activities are methods of one class holding their dependencies; the worker registers the
bound methods. Each may run more than once (retries, a worker killed mid-flight), so each
checks the ledger before it acts and never applies a side effect twice.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from opentelemetry import trace
from temporalio import activity
from temporalio.exceptions import ApplicationError

from schemas import REQUEST_EVENTS_TOPIC
from workers.connectors.base import ConnectorError
from workers.connectors.registry import ConnectorRegistry
from workers.events import EventPublisher
from workers.ledger import Ledger
from workers.messages import (
    FINAL_OUTCOMES,
    DuplicateQuery,
    LegalHold,
    OperatorAlert,
    PortabilityTransfer,
    ReportInput,
    ReportSummary,
    RequestStatusChange,
    SubjectQuery,
    SystemOutcomeInput,
    SystemResult,
    SystemTaskInput,
)
from workers.metrics import CONFIRMATION_DURATION
from workers.report import build_report, render_html
from workers.transfers import HttpTransfers

log = logging.getLogger(__name__)
TRACER = trace.get_tracer("privacy.connectors")

# The outcome an action has once it is done, used when an earlier attempt already did it.
DONE_OUTCOME = {
    "erase": "erased",
    "anonymise": "anonymised",
    "retain": "retained",
    "export": "exported",
    "rectify": "rectified",
    "restrict": "restricted",
    "notify": "notified",
}


def done_outcome(action: str, request_type: str) -> str:
    if action == "stop_processing":
        return "consent_withdrawn" if request_type == "consent_withdrawal" else "processing_stopped"
    return DONE_OUTCOME[action]


def _now() -> str:
    return datetime.now(UTC).isoformat()


class RequestActivities:
    def __init__(
        self,
        ledger: Ledger,
        publisher: EventPublisher,
        connectors: ConnectorRegistry,
        transfers: HttpTransfers,
    ) -> None:
        self._ledger = ledger
        self._publisher = publisher
        self._connectors = connectors
        self._transfers = transfers

    @activity.defn(name="record_request_status")
    async def record_request_status(self, change: RequestStatusChange) -> None:
        await self._ledger.set_status(change)
        await self._event(
            change.request_id, change.tenant, change.request_type,
            "request_status", f"status:{change.status}",
            status=change.status, flags=change.flags, due_at=change.due_at,
            **({"reason": change.reason} if change.reason else {}),
        )  # fmt: skip
        log.info("request %s is %s", change.request_id, change.status)

    @activity.defn(name="apply_system_action")
    async def apply_system_action(self, task: SystemTaskInput) -> SystemResult:
        """Run the step's connector once per (request, system), whatever the retries."""
        step = task.step
        prior = await self._ledger.start_system_action(
            task.request_id, step.system, step.action, step.rule.get("citation")
        )
        if prior["outcome"] in FINAL_OUTCOMES:
            log.info("request %s system %s already %s", task.request_id, step.system, prior["outcome"])
            stored = await self._ledger.system_result(task.request_id, step.system)
            assert stored is not None
            return stored
        connector = self._connectors.for_kind(step.connector["kind"])
        # No personal data in span attributes: system, kind, action, tenant, request type only.
        span = TRACER.start_span(
            f"connector {step.connector['kind']} {step.action}",
            attributes={"privacy.system": step.system, "privacy.tenant": task.tenant,
                        "privacy.request_type": task.request_type, "privacy.request_id": task.request_id},
        )  # fmt: skip
        try:
            located = None
            if step.mutates:
                located = await self._ledger.note_located(
                    task.request_id, step.system, await connector.locate(task)
                )
            done = await connector.perform(task)
        except ConnectorError as exc:
            span.set_attribute("error.type", "ConnectorError")
            if exc.retryable:
                raise
            raise ApplicationError(str(exc), type="ConnectorConfigError", non_retryable=True) from exc
        finally:
            span.end()
        evidence = dict(done.evidence)
        outcome = done.outcome
        if outcome == "not_found" and located:
            # An earlier attempt of this same activity did the work before it was interrupted.
            outcome = done_outcome(step.action, task.request_type)
            evidence.update(located=located, completed_by_earlier_attempt=True)
        if done.records:
            await self._ledger.store_records(task.request_id, step.system, done.records)
        result = SystemResult(
            system=step.system,
            action=step.action,
            outcome=outcome,
            confirmed_at=_now() if outcome in FINAL_OUTCOMES else None,
            evidence=evidence,
            legal_basis=done.legal_basis,
            retained_until=done.retained_until,
            record_count=len(done.records),
        )
        if result.final:
            result = await self._store_outcome(task.request_id, task.tenant, task.request_type, result)
        else:
            await self._publish_outcome(task.request_id, task.tenant, task.request_type, result)
        return result

    @activity.defn(name="cancel_partner_request")
    async def cancel_partner_request(self, task: SystemTaskInput) -> dict[str, Any]:
        """The request was cancelled: withdraw it from the partner it went to (OpenDSR DELETE)."""
        answer = await self._connectors.opendsr.cancel(task)
        await self._event(
            task.request_id, task.tenant, task.request_type, "partner_cancellation",
            f"partner_cancellation:{task.step.system}", system=task.step.system, **answer,
        )  # fmt: skip
        return answer

    @activity.defn(name="record_system_outcome")
    async def record_system_outcome(self, given: SystemOutcomeInput) -> SystemResult:
        return await self._store_outcome(given.request_id, given.tenant, given.request_type, given.result)

    @activity.defn(name="legal_holds_for")
    async def legal_holds_for(self, query: SubjectQuery) -> list[LegalHold]:
        return await self._ledger.holds.active(query.tenant, query.subject_refs)

    @activity.defn(name="match_identities")
    async def match_identities(self, task: SystemTaskInput) -> str | None:
        """Automatic identity check against the tenant's reference system (its pack says which)."""
        connector = self._connectors.for_kind(task.step.connector["kind"])
        return await connector.identities_disagree(task)

    @activity.defn(name="find_duplicate")
    async def find_duplicate(self, query: DuplicateQuery) -> str | None:
        """An earlier open request of the same subject, type and details, already verified."""
        return await self._ledger.lookups.open_duplicate(query)

    @activity.defn(name="count_previous_copies")
    async def count_previous_copies(self, query: SubjectQuery) -> int:
        return await self._ledger.lookups.previous_copies(query.request_id, query.tenant, query.subject_refs)

    @activity.defn(name="discard_identity_document")
    async def discard_identity_document(self, request_id: str) -> None:
        """The identity document served its check; it is not kept (data minimisation)."""
        if await self._ledger.holds.discard_document(request_id):
            log.info("request %s: identity document discarded after the check", request_id)

    @activity.defn(name="alert_operator")
    async def alert_operator(self, alert: OperatorAlert) -> None:
        """Tell operators (request events, log) which systems are silent, before or after the due date."""
        await self._event(
            alert.request_id, alert.tenant, alert.request_type, alert.kind, f"{alert.kind}:{alert.due_at}",
            due_at=alert.due_at, pending_systems=alert.pending_systems,
        )  # fmt: skip
        log.warning(
            "request %s %s: %d system(s) silent, due %s: %s",
            alert.request_id,
            alert.kind,
            len(alert.pending_systems),
            alert.due_at,
            ", ".join(alert.pending_systems),
        )

    @activity.defn(name="acknowledge_receipt")
    async def acknowledge_receipt(self, change: RequestStatusChange) -> None:
        """Confirm receipt where the law asks for it; the event is the evidence, sent once per request."""
        await self._event(
            change.request_id, change.tenant, change.request_type,
            "receipt_acknowledged", "receipt_acknowledged", due_at=change.due_at,
        )  # fmt: skip

    @activity.defn(name="transfer_export")
    async def transfer_export(self, transfer: PortabilityTransfer) -> SystemResult:
        """POST the export to the named provider; when that is not possible, say why (the subject
        still has the export through the report)."""
        found = await self._ledger.report(transfer.request_id)
        if found is None:
            raise ApplicationError(f"request {transfer.request_id} has no export to transfer yet")
        export = {
            "request_id": transfer.request_id,
            "controller": found[0]["controller"].get("name"),
            "systems": {name: s["records"] for name, s in found[0]["systems"].items()},
        }
        name = str(transfer.destination.get("name") or transfer.destination["url"])
        evidence: dict[str, Any]
        try:
            status = await self._transfers.post(str(transfer.destination["url"]), export)
        except OSError as exc:
            outcome, evidence = (
                "refused",
                {"destination": name, "not_possible": f"{type(exc).__name__}: {exc}"},
            )
        else:
            if 200 <= status < 300:
                outcome, evidence = "exported", {"destination": name, "http_status": status}
            else:
                outcome, evidence = "refused", {"destination": name, "not_possible": f"HTTP {status}"}
        result = SystemResult("transfer", "transfer", outcome, _now(), evidence=evidence)
        return await self._store_outcome(transfer.request_id, transfer.tenant, "portability", result)

    @activity.defn(name="erase_after_retention")
    async def erase_after_retention(self, task: SystemTaskInput) -> SystemResult:
        """The retention period of what a system kept has ended: erase it, update the evidence."""
        connector = self._connectors.for_kind(task.step.connector["kind"])
        done = await connector.perform(task)
        if done.outcome == "retained":
            return SystemResult(
                task.step.system, task.step.action, "retained", retained_until=done.retained_until
            )
        evidence = {**done.evidence, "erased_when_retention_ended": _now()}
        await self._ledger.end_retention(task.request_id, task.step.system, evidence)
        result = SystemResult(task.step.system, task.step.action, "erased", _now(), evidence=evidence)
        await self._publish_outcome(task.request_id, task.tenant, task.request_type, result)
        log.info(
            "request %s system %s: erased at the end of its retention", task.request_id, task.step.system
        )
        return result

    @activity.defn(name="compile_report")
    async def compile_report(self, given: ReportInput) -> ReportSummary:
        request = await self._ledger.request(given.request_id)
        if request is None:
            raise ApplicationError(f"request {given.request_id} is not in the ledger")
        records = await self._ledger.system_records(given.request_id)
        report = build_report(request, given.controller, given.steps, records)
        await self._ledger.save_report(given.request_id, report, render_html(report))
        total = sum(s["record_count"] for s in report["systems"].values())
        return ReportSummary(request_id=given.request_id, systems=len(report["systems"]), records=total)

    async def _store_outcome(
        self, request_id: str, tenant: str, request_type: str, result: SystemResult
    ) -> SystemResult:
        stored = await self._ledger.record_outcome(request_id, result)
        if stored is result and result.final:  # stored now, not a repeat of an earlier answer
            seconds = await self._ledger.seconds_to_confirm(request_id, result.system)
            if seconds is not None:
                attributes = {"tenant": tenant, "system": result.system, "outcome": result.outcome}
                CONFIRMATION_DURATION.record(seconds, attributes)
        await self._publish_outcome(request_id, tenant, request_type, stored)
        log.info("request %s system %s: %s", request_id, stored.system, stored.outcome)
        return stored

    async def _publish_outcome(
        self, request_id: str, tenant: str, request_type: str, result: SystemResult
    ) -> None:
        await self._event(
            request_id, tenant, request_type, "system_outcome", f"system:{result.system}:{result.outcome}",
            system=result.system, action=result.action, outcome=result.outcome,
            at=result.confirmed_at or _now(),
        )  # fmt: skip

    async def _event(
        self, request_id: str, tenant: str, request_type: str, kind: str, change: str, **fields: Any
    ) -> None:
        """Publish a state change on privacy.request-events.v1; its id is deterministic, so a
        re-publication by a retried activity is recognisable downstream. No personal data."""
        value = {
            "event_id": f"{request_id}:{change}", "request_id": request_id, "tenant": tenant,
            "type": request_type, "kind": kind, "at": _now(), **fields,
        }  # fmt: skip
        await self._publisher.publish(REQUEST_EVENTS_TOPIC, key=request_id, value=value)
