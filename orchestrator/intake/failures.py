"""Which failures are the event's fault (never retried) and which are a dependency's (retried,
with a bound, then alerted).

A NUL in a field PostgreSQL refuses, or a value Temporal calls invalid, fails the same way on
every retry: retrying it wedges an intake actor for ever. PostgreSQL restarting, Temporal
unreachable, a dropped connection: those pass, so they are retried with back-off, up to the
retry budget (``PRIVACY_INTAKE_RETRY_SECONDS``); then the event goes to the DLQ as
``dependency_unavailable`` (to be replayed) and an operator is alerted.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

import asyncpg
from temporalio.service import RPCError, RPCStatusCode

from schemas import ContractViolation

log = logging.getLogger(__name__)

MAX_BACKOFF_SECONDS = 30.0

# SQLSTATE classes of a server that is down, restarting, overloaded or in a conflict that passes:
# connection exception, transaction rollback, insufficient resources, operator intervention
# (57P03 "the database system is starting up"), system error.
TRANSIENT_SQLSTATE_CLASSES = frozenset({"08", "40", "53", "57", "58"})
TRANSIENT_RPC_STATUSES = frozenset(
    {RPCStatusCode.UNAVAILABLE, RPCStatusCode.DEADLINE_EXCEEDED, RPCStatusCode.RESOURCE_EXHAUSTED,
     RPCStatusCode.ABORTED, RPCStatusCode.CANCELLED, RPCStatusCode.UNKNOWN, RPCStatusCode.INTERNAL}
)  # fmt: skip
# Failures of the value itself (or of our code on it): the same on every try.
DATA_ERRORS = (ContractViolation, ValueError, TypeError, KeyError, IndexError, RecursionError)


class DependencyUnavailable(Exception):
    """Retries ran out while a dependency stayed down; the event goes to the DLQ to be replayed."""


def is_transient(exc: BaseException) -> bool:
    """Whether trying again later can succeed."""
    if isinstance(exc, asyncpg.PostgresError):
        return (exc.sqlstate or "")[:2] in TRANSIENT_SQLSTATE_CLASSES
    if isinstance(exc, RPCError):
        return exc.status in TRANSIENT_RPC_STATUSES
    # Connection refused or reset, timeouts, a closed pool: transient; a bad value: not.
    return not isinstance(exc, DATA_ERRORS)


async def retry_transient(what: str, action: Callable[[], Awaitable[Any]], budget_seconds: float) -> Any:
    """Run ``action``; transient failures are retried with back-off for ``budget_seconds``, then
    raise DependencyUnavailable (alerted); anything else passes through at once."""
    delay, given_up_at = 0.5, time.monotonic() + budget_seconds
    while True:
        try:
            return await action()
        except Exception as exc:
            if not is_transient(exc):
                raise
            if time.monotonic() + delay > given_up_at:
                log.error(
                    "ALERT %s: a dependency stayed down for %.0fs (%s); the event goes to the DLQ "
                    "as dependency_unavailable, replay it once the stack is back",
                    what, budget_seconds, type(exc).__name__,
                )  # fmt: skip
                raise DependencyUnavailable(f"{what}: {type(exc).__name__}") from exc
            # Type only: an exception's text may quote the event, and logs carry no PII.
            log.warning("%s failed (%s); retrying in %.1fs", what, type(exc).__name__, delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, MAX_BACKOFF_SECONDS)
