"""Request steps: the I/O a request workflow asks for, keyed by (request, system).

Activities are methods of one class holding their dependencies; the worker registers the
bound methods, each the implementation of a typed stub in ``definitions``. Each may run more
than once (retries, a worker killed mid-flight), so each checks the ledger before it acts and
never applies a side effect twice.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import Any, NoReturn

from opentelemetry import trace
from temporalio.exceptions import ApplicationError

from schemas.identity import subject_refs
from schemas.vocabulary import FINAL_OUTCOMES, done_outcome
from workers.activities import definitions
from workers.activities.definitions import implements
from workers.activities.evidence import Evidence, now
from workers.connectors.base import VERIFIED_ACTIONS, ConnectorError
from workers.connectors.registry import ConnectorRegistry
from workers.messages.requests import (
    DuplicateQuery,
    LegalHold,
    OperatorAlert,
    RequestStatusChange,
    SubjectQuery,
    SystemOutcomeInput,
    SystemResult,
    SystemTaskInput,
)

log = logging.getLogger(__name__)
TRACER = trace.get_tracer("privacy.connectors")
# After these, the subject is looked for again: erasure is proven, not assumed.
VERIFIED_OUTCOMES = frozenset({"erased", "anonymised", "not_found"})


def raise_connector_error(exc: ConnectorError) -> NoReturn:
    """Raise a connector's failure as Temporal should see it: retried as it is, or a
    configuration error (a broken pack) that no retry can mend and an operator must see."""
    if exc.retryable:
        raise exc
    raise ApplicationError(str(exc), type="ConnectorConfigError", non_retryable=True) from exc


class RequestActivities:
    def __init__(self, evidence: Evidence, connectors: ConnectorRegistry, ref_key: bytes) -> None:
        self._evidence = evidence
        self._ledger = evidence.ledger
        self._connectors = connectors
        self._ref_key = ref_key  # keys the subject references legal holds are kept by

    @implements(definitions.record_request_status)
    async def record_request_status(self, change: RequestStatusChange) -> None:
        await self._ledger.set_status(change)
        await self._evidence.event(
            change.request_id, change.tenant, change.request_type,
            "request_status", f"status:{change.status}",
            status=change.status, flags=change.flags, due_at=change.due_at,
            **({"reason": change.reason} if change.reason else {}),
        )  # fmt: skip
        log.info("request %s is %s", change.request_id, change.status)

    @implements(definitions.apply_system_action)
    async def apply_system_action(self, task: SystemTaskInput) -> SystemResult:
        """Run the step's connector once per (request, system), whatever the retries."""
        step = task.step
        prior = await self._ledger.start_system_action(
            task.request_id, step.system, step.action, step.rule.get("citation")
        )
        connector = self._connectors.for_kind(step.connector["kind"])
        if prior["outcome"] in FINAL_OUTCOMES:
            log.info("request %s system %s already %s", task.request_id, step.system, prior["outcome"])
            stored = await self._ledger.system_result(task.request_id, step.system)
            assert stored is not None
            return self._with_capabilities(stored, connector)
        # No personal data in span attributes: system, kind, action, tenant, request type only.
        span = TRACER.start_span(
            f"connector {step.connector['kind']} {step.action}",
            attributes={"privacy.system": step.system, "privacy.tenant": task.tenant,
                        "privacy.request_type": task.request_type, "privacy.request_id": task.request_id},
        )  # fmt: skip
        try:
            located = None
            if connector.changes_data(step.action):

                async def keep_count(count: int) -> int:
                    return await self._ledger.note_located(task.request_id, step.system, count)

                located, done = await connector.locate_then_perform(task, keep_count)
            else:
                done = await connector.perform(task)
        except ConnectorError as exc:
            span.set_attribute("error.type", "ConnectorError")
            raise_connector_error(exc)
        finally:
            span.end()
        evidence = dict(done.evidence)
        outcome = done.outcome
        if outcome == "not_found" and located:
            # An earlier attempt of this same activity did the work before it was interrupted.
            outcome = done_outcome(step.action, task.request_type)
            evidence.update(located=located, completed_by_earlier_attempt=True)
        if step.action in VERIFIED_ACTIONS and outcome in VERIFIED_OUTCOMES:
            if outcome == "not_found" and located == 0:
                # Nothing to act on, now or in an earlier attempt: the lookup just made is the check.
                evidence["verification"] = await self._nothing_held(task)
            else:
                evidence["verification"] = await self._verify(task, connector)
        if done.records:
            await self._ledger.store_records(task.request_id, step.system, done.records)
        result = SystemResult(
            system=step.system,
            action=step.action,
            outcome=outcome,
            confirmed_at=now() if outcome in FINAL_OUTCOMES else None,
            evidence=evidence,
            legal_basis=done.legal_basis,
            retained_until=done.retained_until,
            record_count=len(done.records),
        )
        if result.final:
            result = await self._evidence.store_outcome(
                task.request_id, task.tenant, task.request_type, result
            )
        else:
            await self._evidence.publish_outcome(task.request_id, task.tenant, task.request_type, result)
        return self._with_capabilities(result, connector)

    async def _nothing_held(self, task: SystemTaskInput) -> dict[str, Any]:
        """The system held none of the subject's records when it was searched before acting, by
        every identifier known, and no earlier attempt found any: searching again a moment later
        would prove nothing more (and costs a rate-limited API its calls)."""
        verification: dict[str, Any] = {"remaining": 0, "checked_at": now(), "searched": "before acting"}
        await self._ledger.note_verification(task.request_id, task.step.system, verification)
        return verification

    async def _verify(self, task: SystemTaskInput, connector: Any) -> dict[str, Any]:
        """Look for the subject again, by every identifier known, after the system erased or
        anonymised. Anything left means the system is not done: the activity fails (retryable),
        so it is tried again with backoff and stays pending for reminders and alerts."""
        step = task.step
        try:
            remaining = await connector.remaining(task)
        except ConnectorError as exc:
            raise_connector_error(exc)
        verification: dict[str, Any] = {"remaining": remaining, "checked_at": now()}
        if not remaining:
            await self._ledger.note_verification(task.request_id, step.system, verification)
            return verification
        error = f"{remaining} record(s) of the subject remain after {step.action}: not done yet"
        await self._ledger.note_verification(task.request_id, step.system, verification, error)
        log.warning("request %s system %s: %s", task.request_id, step.system, error)
        raise ConnectorError(f"system {step.system}: {error}")

    @staticmethod
    def _with_capabilities(result: SystemResult, connector: Any) -> SystemResult:
        """What the workflow must know of the system beyond its answer (the connector decides)."""
        result.withdrawable = connector.withdrawable
        result.signed_callbacks = connector.confirms_by_signed_callback
        return result

    @implements(definitions.cancel_partner_request)
    async def cancel_partner_request(self, task: SystemTaskInput) -> dict[str, Any]:
        """The request was cancelled: withdraw what went to the system (a partner: OpenDSR DELETE)."""
        connector = self._connectors.for_kind(task.step.connector["kind"])
        try:
            answer = await connector.withdraw(task)
        except ConnectorError as exc:
            raise_connector_error(exc)
        if not connector.withdrawable:
            return answer
        await self._evidence.event(
            task.request_id, task.tenant, task.request_type, "partner_cancellation",
            f"partner_cancellation:{task.step.system}", system=task.step.system, **answer,
        )  # fmt: skip
        return answer

    @implements(definitions.record_system_outcome)
    async def record_system_outcome(self, given: SystemOutcomeInput) -> SystemResult:
        """Keep a system's answer. An erasure confirmed by the system itself (an asynchronous
        tool, a partner, an operator) carries its own verification, or says it could not be checked."""
        result = given.result
        if result.outcome in ("erased", "anonymised") and "verification" not in result.evidence:
            reason = "the system confirmed the erasure without a check of what remains"
            result.evidence = {**result.evidence, "verification": {"checked": False, "reason": reason}}
        return await self._evidence.store_outcome(given.request_id, given.tenant, given.request_type, result)

    @implements(definitions.legal_holds_for)
    async def legal_holds_for(self, query: SubjectQuery) -> list[LegalHold]:
        return await self._ledger.holds.active(query.tenant, query.subject_refs)

    @implements(definitions.match_identities)
    async def match_identities(self, task: SystemTaskInput) -> str | None:
        """Automatic identity check against the tenant's reference system (its pack says which)."""
        connector = self._connectors.for_kind(task.step.connector["kind"])
        try:
            return await connector.identities_disagree(task)
        except ConnectorError as exc:
            raise_connector_error(exc)

    @implements(definitions.find_duplicate)
    async def find_duplicate(self, query: DuplicateQuery) -> str | None:
        """An earlier open request of the same subject, type and details, already verified."""
        return await self._ledger.lookups.open_duplicate(query)

    @implements(definitions.count_previous_copies)
    async def count_previous_copies(self, query: SubjectQuery) -> int:
        return await self._ledger.lookups.previous_copies(query.request_id, query.tenant, query.subject_refs)

    @implements(definitions.discard_identity_document)
    async def discard_identity_document(self, request_id: str) -> None:
        """The identity document served its check; it is not kept (data minimisation)."""
        if await self._ledger.holds.discard_document(request_id):
            log.info("request %s: identity document discarded after the check", request_id)

    @implements(definitions.alert_operator)
    async def alert_operator(self, alert: OperatorAlert) -> None:
        """Tell operators (request events, log) which systems are silent, before or after the due date."""
        change = f"{alert.kind}:{alert.due_at}"
        waiting: dict[str, object] = {}
        if alert.waiting_for:
            change += f":{alert.waiting_for}:{alert.reminder}"
            waiting = {"waiting_for": alert.waiting_for, "reminder": alert.reminder}
        await self._evidence.event(
            alert.request_id, alert.tenant, alert.request_type, alert.kind, change,
            due_at=alert.due_at, pending_systems=alert.pending_systems, **waiting,
        )  # fmt: skip
        log.warning(
            "request %s %s: waiting for %s, due %s: %s",
            alert.request_id,
            alert.kind,
            alert.waiting_for or f"{len(alert.pending_systems)} system(s)",
            alert.due_at,
            ", ".join(alert.pending_systems),
        )

    @implements(definitions.acknowledge_receipt)
    async def acknowledge_receipt(self, change: RequestStatusChange) -> None:
        """Confirm receipt where the law asks for it; the event is the evidence, sent once per request."""
        await self._evidence.event(
            change.request_id, change.tenant, change.request_type,
            "receipt_acknowledged", "receipt_acknowledged", due_at=change.due_at,
        )  # fmt: skip

    @implements(definitions.erase_after_retention)
    async def erase_after_retention(self, task: SystemTaskInput) -> SystemResult:
        """The retention period of what a system kept has ended: erase it, update the evidence."""
        connector = self._connectors.for_kind(task.step.connector["kind"])
        if connector.answers_later:
            # Nothing here can reach it again: its own retention applies (said in the evidence).
            log.warning("request %s system %s: retention ended, the system erases by itself",
                        task.request_id, task.step.system)  # fmt: skip
            return SystemResult(task.step.system, task.step.action, "retained", None)
        refs = subject_refs(self._ref_key, task.tenant, task.subject)
        if await self._ledger.holds.active(task.tenant, refs):
            # A legal hold placed meanwhile: the period counts again from its end; ask again in a day.
            later = (datetime.now(UTC) + timedelta(days=1)).isoformat()
            return SystemResult(task.step.system, task.step.action, "retained", retained_until=later)
        try:
            # What a ``retain`` rule kept (restricted) is now erased; an ``erase`` rule that kept
            # recent records runs again and keeps only what is still inside its period.
            done = await (connector.erase(task) if task.step.action == "retain" else connector.perform(task))
        except ConnectorError as exc:
            raise_connector_error(exc)
        if done.outcome == "retained":
            return SystemResult(
                task.step.system, task.step.action, "retained", retained_until=done.retained_until
            )
        evidence = {**done.evidence, "erased_when_retention_ended": now()}
        evidence["verification"] = await self._verify(task, connector)
        await self._ledger.end_retention(task.request_id, task.step.system, evidence)
        result = SystemResult(task.step.system, task.step.action, "erased", now(), evidence=evidence)
        await self._evidence.publish_outcome(task.request_id, task.tenant, task.request_type, result)
        log.info(
            "request %s system %s: erased at the end of its retention", task.request_id, task.step.system
        )
        return result
