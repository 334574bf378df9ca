"""Temporal Schedules made from the packs at start-up: one per retention rule, plus the ledger's own.

``ensure_schedules`` runs at every worker start: it creates each schedule, or updates one that
exists to what the pack says now (keeping its paused/unpaused state: an operator who paused a
sweep in the Temporal UI keeps it paused across restarts), and deletes the schedules of rules a
pack no longer has. Two workers starting at once both end with the same schedules. A rule whose
system cannot sweep (its connector has no dated rows: kafka_confirm, manual, opendsr) stops
start-up with a clear error, like any broken pack.
"""

from __future__ import annotations

import logging
import os
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleAlreadyRunningError,
    ScheduleIntervalSpec,
    ScheduleOverlapPolicy,
    SchedulePolicy,
    ScheduleSpec,
    ScheduleState,
    ScheduleUpdate,
    ScheduleUpdateInput,
)
from temporalio.common import SearchAttributePair, TypedSearchAttributes

from orchestrator.policy.packs import PackError, PolicyPack
from orchestrator.policy.retention import (
    DEFAULT_OWN_COPIES,
    SweepSchedule,
    own_copies_period,
    retention_rules,
    sweep_schedule,
)
from orchestrator.workflows import search
from orchestrator.workflows.retention_sweep import (
    LEDGER_SCHEDULE_ID,
    LedgerRetentionWorkflow,
    RetentionSweepWorkflow,
    sweep_schedule_id,
)
from schemas.periods import parse_duration
from workers.connectors.registry import ConnectorRegistry
from workers.messages.retention import LedgerRetentionInput, RetentionRun, SweepInput

log = logging.getLogger("orchestrator.schedules")
LEDGER_EVERY_ENV = "PRIVACY_LEDGER_RETENTION_EVERY"  # ISO 8601 duration; default one day
SCHEDULE_PREFIX = "privacy-retention-"


@dataclass(frozen=True)
class PlannedSchedule:
    schedule_id: str
    schedule: Schedule


def planned_schedules(packs: dict[str, PolicyPack], task_queue: str) -> list[PlannedSchedule]:
    """Every schedule the packs ask for; PackError when a rule cannot be carried out."""
    planned = []
    for tenant, pack in sorted(packs.items()):
        for rule in retention_rules(pack):
            kind = rule.connector["kind"]
            if not ConnectorRegistry.can_sweep(kind):
                raise PackError(
                    f"{pack.source}: retention rule {rule.name!r}: system {rule.system!r} is of kind "
                    f"{kind!r}, which cannot sweep retention rules (sql and files can)"
                )
            schedule_id = sweep_schedule_id(tenant, rule.name)
            action = ScheduleActionStartWorkflow(
                RetentionSweepWorkflow.run,
                SweepInput(rule),
                id=schedule_id,
                task_queue=task_queue,
                typed_search_attributes=TypedSearchAttributes([SearchAttributePair(search.TENANT, tenant)]),
            )
            planned.append(
                PlannedSchedule(
                    schedule_id,
                    _schedule(
                        action, sweep_schedule(pack, rule.name), f"{tenant} retention: {rule.citation}"
                    ),
                )
            )
    keep = {
        tenant: own_copies_period(pack)
        for tenant, pack in packs.items()
        if "own_copies" in pack.document.get("retention", {})
    }
    ledger_action = ScheduleActionStartWorkflow(
        LedgerRetentionWorkflow.run,
        LedgerRetentionInput(keep_copies=keep, default=DEFAULT_OWN_COPIES),
        id=LEDGER_SCHEDULE_ID,
        task_queue=task_queue,
    )
    every = _interval(os.environ.get(LEDGER_EVERY_ENV, "P1D"))
    planned.append(
        PlannedSchedule(
            LEDGER_SCHEDULE_ID,
            _schedule(
                ledger_action, SweepSchedule(interval=every), "the orchestrator's own copies of personal data"
            ),
        )
    )
    return planned


async def ensure_schedules(client: Client, packs: dict[str, PolicyPack], task_queue: str) -> list[str]:
    """Create or update every planned schedule, delete those of rules gone; returns their ids."""
    planned = planned_schedules(packs, task_queue)
    for entry in planned:
        try:
            await client.create_schedule(entry.schedule_id, entry.schedule)
            log.info("schedule %s created", entry.schedule_id)
        except ScheduleAlreadyRunningError:
            await client.get_schedule_handle(entry.schedule_id).update(_keeping_state(entry.schedule))
            log.info("schedule %s updated", entry.schedule_id)
    wanted = {entry.schedule_id for entry in planned}
    async for listed in await client.list_schedules():
        if listed.id.startswith(SCHEDULE_PREFIX) and listed.id not in wanted:
            tenant_part = listed.id[len(SCHEDULE_PREFIX) :]
            if any(tenant_part.startswith(f"{tenant}-") for tenant in packs):
                await client.get_schedule_handle(listed.id).delete()
                log.info("schedule %s deleted: its rule is no longer in the pack", listed.id)
    return sorted(wanted)


def _schedule(action: ScheduleActionStartWorkflow, when: SweepSchedule, note: str) -> Schedule:
    spec = (
        ScheduleSpec(cron_expressions=[when.cron])
        if when.cron
        else ScheduleSpec(intervals=[ScheduleIntervalSpec(every=when.interval or timedelta(days=1))])
    )
    return Schedule(
        action=action,
        spec=spec,
        # A sweep still running when the next is due: the next is skipped, not queued.
        policy=SchedulePolicy(overlap=ScheduleOverlapPolicy.SKIP),
        state=ScheduleState(note=note[:200]),
    )


def _keeping_state(schedule: Schedule) -> Callable[[ScheduleUpdateInput], ScheduleUpdate]:
    """An update to ``schedule`` that keeps the existing schedule's paused state and note."""

    def update(given: ScheduleUpdateInput) -> ScheduleUpdate:
        current = given.description.schedule.state
        schedule.state = ScheduleState(note=current.note or schedule.state.note, paused=current.paused)
        return ScheduleUpdate(schedule=schedule)

    return update


def _interval(duration: str) -> timedelta:
    months, exact = parse_duration(duration)
    return exact + timedelta(days=30 * months)


async def dry_run(
    client: Client, pack: PolicyPack, task_queue: str, rule_name: str | None = None
) -> list[RetentionRun]:
    """What the tenant's sweeps would erase or anonymise now, per rule, without touching a row:
    the same workflow and connectors as the schedule, with ``dry_run`` (evidence kept as such)."""
    rules = [r for r in retention_rules(pack) if rule_name in (None, r.name)]
    if not rules:
        known = [r.name for r in retention_rules(pack)]
        raise PackError(f"{pack.source}: no retention rule {rule_name!r} (the pack has {known})")
    runs = []
    for rule in rules:
        run: RetentionRun = await client.execute_workflow(
            RetentionSweepWorkflow.run,
            SweepInput(rule, dry_run=True),
            id=f"{sweep_schedule_id(pack.tenant, rule.name)}-dry-run-{uuid.uuid4().hex[:12]}",
            task_queue=task_queue,
            search_attributes=TypedSearchAttributes([SearchAttributePair(search.TENANT, pack.tenant)]),
        )
        runs.append(run)
    return runs
