"""The bare-Temporal ceiling: fan-out workflows of the same width as a request, doing nothing.

Same server, same shape (one child workflow per system, one activity each), no I/O: what
Temporal alone allows on this machine, to compare our end-to-end throughput with.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

from temporalio import activity, workflow


@activity.defn(name="bench_noop")
async def bench_noop(index: int) -> int:
    return index


@workflow.defn(name="BenchNoopChild")
class BenchNoopChild:
    @workflow.run
    async def run(self, index: int) -> int:
        result: int = await workflow.execute_activity(
            "bench_noop", index, start_to_close_timeout=timedelta(seconds=30), result_type=int
        )
        return result


@workflow.defn(name="BenchNoopFanout")
class BenchNoopFanout:
    @workflow.run
    async def run(self, width: int) -> int:
        parent = workflow.info().workflow_id
        results = await asyncio.gather(
            *(
                workflow.execute_child_workflow(BenchNoopChild.run, i, id=f"{parent}/child/{i}")
                for i in range(width)
            )
        )
        return sum(results)


@workflow.defn(name="BenchWaiter")
class BenchWaiter:
    """Waits for one signal, then completes: the bare cost of an acknowledgement closing a workflow."""

    def __init__(self) -> None:
        self._done = False

    @workflow.run
    async def run(self) -> None:
        await workflow.wait_condition(lambda: self._done)

    @workflow.signal
    def done(self) -> None:
        self._done = True


@workflow.defn(name="BenchNoopDirect")
class BenchNoopDirect:
    """The request's shape where every system answers in the call: one activity per system, no
    child workflow (issue 13's direct path)."""

    @workflow.run
    async def run(self, width: int) -> int:
        results = await asyncio.gather(
            *(
                workflow.execute_activity(
                    "bench_noop", i, start_to_close_timeout=timedelta(seconds=30), result_type=int
                )
                for i in range(width)
            )
        )
        return sum(results)
