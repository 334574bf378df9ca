"""Fair under a burst: a request further along goes first.

Every step of a request is an activity task on one task queue. In a FIFO queue each request's next
step goes behind every other request's, so a burst advances in lockstep and every request closes
near the end (issue 13: p50 publish→closed ≈ the burst's wall time). Temporal's task-queue
priority (``priority_key`` 1 = first … ``LEVELS`` = last; the dev server and Temporal ≥ 1.28 honour
it, no configuration) lets a request's later steps cut in front of other requests' earlier ones:
the more steps a request has done, the sooner its next one runs, so requests finish roughly in
the order they arrived, and the total work — hence throughput — is unchanged. It orders a backlog
of activity tasks on the server (several workers, slow systems); with one worker that has free
activity slots none forms, and the order comes from the worker's own slots (``worker_slots``).
"""

from __future__ import annotations

from temporalio.common import Priority

LEVELS = 5  # the server's default number of priority levels (matching.priorityLevels)


def priority_after(steps_done: int) -> Priority:
    """The priority of a request's next step once ``steps_done`` of its steps have run."""
    return Priority(priority_key=max(1, LEVELS - steps_done))
