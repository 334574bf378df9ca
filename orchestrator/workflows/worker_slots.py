"""Requests already under way before new ones: the worker's workflow-task slots.

Why: a burst of requests published at once puts every new request's first workflow task on the
task queue together. Each first task is the costly one (the workflow's sandbox is built and its
modules loaded: a quarter of the worker's CPU in bench (f)), and a worker that takes them all
first leaves every request under way waiting behind them, so the whole burst advances in
lockstep and closes together at the end (issue 13: p50 publish→closed ≈ the wall time).

A workflow task of a request under way comes on the worker's sticky queue (its workflow is
cached here); a new request's comes on the shared queue. Here at most ``new_at_once`` shared-queue
tasks run at a time, while sticky ones only share the worker's overall limit: new requests are
admitted as fast as the worker keeps up with those under way, and requests finish roughly in the
order they arrived. Nothing waits on a timer and no work is refused: a task not taken yet stays
on Temporal's queue, in order (and in priority order: ``fairness``).
"""

from __future__ import annotations

import asyncio

from temporalio.worker import (
    CustomSlotSupplier,
    FixedSizeSlotSupplier,
    SlotMarkUsedContext,
    SlotPermit,
    SlotReleaseContext,
    SlotReserveContext,
    WorkerTuner,
)


class _Permit(SlotPermit):
    def __init__(self, shared_queue: bool) -> None:
        self.shared_queue = shared_queue


class UnderWayFirst(CustomSlotSupplier):
    """Workflow-task slots: ``total`` in all, of which at most ``new_at_once`` for the shared queue."""

    def __init__(self, total: int, new_at_once: int) -> None:
        if not 1 <= new_at_once < total:
            raise ValueError("new_at_once must be at least 1 and below total")
        self._total = asyncio.Semaphore(total)
        self._shared = asyncio.Semaphore(new_at_once)
        self._loop: asyncio.AbstractEventLoop | None = None

    async def reserve_slot(self, ctx: SlotReserveContext) -> SlotPermit:
        self._loop = asyncio.get_running_loop()
        if ctx.is_sticky:
            await self._total.acquire()
            return _Permit(shared_queue=False)
        await self._shared.acquire()
        try:
            await self._total.acquire()
        except BaseException:
            self._shared.release()
            raise
        return _Permit(shared_queue=True)

    def try_reserve_slot(self, ctx: SlotReserveContext) -> SlotPermit | None:
        return None  # only eager workflow starts ask here, and the intake does not request them

    def mark_slot_used(self, ctx: SlotMarkUsedContext) -> None:
        return None

    def release_slot(self, ctx: SlotReleaseContext) -> None:
        # Called from the SDK core's threads too: the semaphores are released on their own loop.
        shared = isinstance(ctx.permit, _Permit) and ctx.permit.shared_queue
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._release, shared)

    def _release(self, shared: bool) -> None:
        self._total.release()
        if shared:
            self._shared.release()


def under_way_first_tuner(
    max_concurrent_activities: int, total: int = 100, new_at_once: int = 1
) -> WorkerTuner:
    """The worker's tuner: workflow tasks as ``UnderWayFirst``, activities ``max_concurrent_activities``."""
    return WorkerTuner.create_composite(
        workflow_supplier=UnderWayFirst(total, new_at_once),
        activity_supplier=FixedSizeSlotSupplier(max_concurrent_activities),
        local_activity_supplier=FixedSizeSlotSupplier(100),
        nexus_supplier=FixedSizeSlotSupplier(100),
    )
