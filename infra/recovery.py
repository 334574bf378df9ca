"""What a server of the embedded stack needs after its keeper restarted it, before it counts as up.

    python -m infra.recovery postgres|broker|temporal

Run by ``infra.keeper --after-restart`` with the stack's environment (its PRIVACY_* addresses).
It waits for real readiness (``infra.readiness``: a query answered, the namespace described,
metadata answered), then restores what the restart lost: Tansu keeps topics in memory, so a
restarted broker gets the contract's topics again, with their partitions. Exit 0 once done, 1
when the server is still not ready after ``PRIVACY_RECOVERY_SECONDS`` (default 90): the keeper
counts that as a crash. Exits with os._exit (temporalio sdk-python #300).
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
from collections.abc import Callable

from infra.bootstrap import ensure_topics
from infra.readiness import broker_ready, postgres_ready, temporal_ready
from workers.runtime.settings import Settings


def readiness(kind: str, settings: Settings) -> Callable[[], bool]:
    """The readiness check of one server kind of the stack."""
    checks: dict[str, Callable[[], bool]] = {
        "postgres": lambda: postgres_ready(settings.pg_host, settings.pg_port, settings.pg_user),
        "broker": lambda: broker_ready(settings.kafka_bootstrap),
        "temporal": lambda: temporal_ready(settings.temporal_address, settings.temporal_namespace),
    }
    if kind not in checks:
        raise SystemExit(f"unknown server kind {kind!r}: one of {', '.join(checks)}")
    return checks[kind]


def recover(kind: str, settings: Settings, timeout: float) -> bool:
    """Wait until the server answers, then restore what its restart lost; False on timeout."""
    ready = readiness(kind, settings)
    deadline = time.monotonic() + timeout
    while not ready():
        if time.monotonic() > deadline:
            print(f"recovery: {kind} not ready {timeout:.0f}s after its restart", file=sys.stderr, flush=True)
            return False
        time.sleep(0.5)
    if kind == "broker":
        asyncio.run(ensure_topics(settings))  # in-memory storage: the restart emptied it
    print(f"recovery: {kind} ready again", file=sys.stderr, flush=True)
    return True


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python -m infra.recovery postgres|broker|temporal", file=sys.stderr)
        return 2
    timeout = float(os.environ.get("PRIVACY_RECOVERY_SECONDS", "90"))
    return 0 if recover(argv[0], Settings(), timeout) else 1


if __name__ == "__main__":
    code = main(sys.argv[1:])
    sys.stdout.flush()
    sys.stderr.flush()
    # The Temporal readiness check used the Temporal client: a normal exit can then crash while
    # the interpreter finalises (temporalio sdk-python #300), which the keeper would take for
    # a failed recovery.
    os._exit(code)
