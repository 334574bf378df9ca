"""Our own bookkeeping steps (ledger rows, request events) run as local activities.

A status write, a duplicate or legal-hold look-up, a system's outcome kept: each is a short,
idempotent call to our own PostgreSQL and Kafka. As a regular activity each costs a round trip
through the Temporal server (schedule, match, poll, complete, a new workflow task) — in an
erasure burst those round trips, not the work, were most of what the server did. As a local
activity the worker that runs the workflow runs it at once and records its result in the same
workflow task's marker: as durable (a lost worker runs it again, and every one of these steps is
safe to repeat), retried by the same policy, with no task of its own.

Connector I/O (acting on a downstream system, resolving identities, compiling a report, a
transfer) stays a regular activity: it can be slow, and other workers may serve it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import TypeVar

from temporalio import workflow

from orchestrator.workflows.retries import LEDGER_RETRY

with workflow.unsafe.imports_passed_through():
    from workers.activities import definitions

A = TypeVar("A")
R = TypeVar("R")

# The command sequence changed (local-activity markers instead of scheduled activities). A run
# that began before it keeps scheduling regular activities to its end: ``workflow.patched`` is
# decided once per run, at its first bookkeeping step.
LOCAL_LEDGER_PATCH = "ledger-steps-as-local-activities"

LEDGER_STEPS: frozenset[Callable[..., Awaitable[object]]] = frozenset(
    {
        definitions.record_request_status,
        definitions.acknowledge_receipt,
        definitions.find_duplicate,
        definitions.legal_holds_for,
        definitions.count_previous_copies,
        definitions.record_system_outcome,
        definitions.discard_identity_document,
        definitions.alert_operator,
        definitions.purge_subject_copies,
    }
)
TIMEOUT = timedelta(seconds=30)


async def run_step(stub: Callable[[A], Awaitable[R]], argument: A) -> R:
    """Run one of our own steps, retried until the ledger and Kafka are back: a bookkeeping step
    as a local activity (in runs that began with this release), anything else as an activity."""
    if stub in LEDGER_STEPS and workflow.patched(LOCAL_LEDGER_PATCH):
        return await workflow.execute_local_activity(
            stub, argument, start_to_close_timeout=TIMEOUT, retry_policy=LEDGER_RETRY
        )
    return await workflow.execute_activity(
        stub, argument, start_to_close_timeout=TIMEOUT, retry_policy=LEDGER_RETRY
    )
