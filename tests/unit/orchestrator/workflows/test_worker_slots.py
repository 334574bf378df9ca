"""The worker admits new requests (shared-queue workflow tasks) only a few at a time, while the
requests under way (sticky tasks) keep every other slot (issue 13, fair under a burst)."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any

import pytest
from temporalio.worker import SlotReleaseContext

from orchestrator.workflows.worker_slots import UnderWayFirst


def _ctx(sticky: bool) -> Any:
    return SimpleNamespace(is_sticky=sticky, slot_type="workflow", task_queue="q")


async def _settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


async def test_new_requests_wait_for_a_shared_slot_while_requests_under_way_go_on() -> None:
    slots = UnderWayFirst(total=5, new_at_once=2)
    first = [await slots.reserve_slot(_ctx(False)) for _ in range(2)]
    third = asyncio.ensure_future(slots.reserve_slot(_ctx(False)))
    await _settle()
    assert not third.done(), "a third new request waits"
    under_way = [await slots.reserve_slot(_ctx(True)) for _ in range(3)]  # not held back
    slots.release_slot(SlotReleaseContext(slot_info=None, permit=under_way[0]))
    await _settle()
    assert not third.done(), "a request under way finishing frees no slot for new ones"
    slots.release_slot(SlotReleaseContext(slot_info=None, permit=first[0]))
    await asyncio.wait_for(third, 5)


async def test_the_overall_limit_holds_for_requests_under_way_too() -> None:
    slots = UnderWayFirst(total=2, new_at_once=1)
    held = [await slots.reserve_slot(_ctx(True)) for _ in range(2)]
    waiting = asyncio.ensure_future(slots.reserve_slot(_ctx(True)))
    await _settle()
    assert not waiting.done()
    slots.release_slot(SlotReleaseContext(slot_info=None, permit=held[0]))
    await asyncio.wait_for(waiting, 5)


def test_the_shared_share_must_leave_room_for_requests_under_way() -> None:
    with pytest.raises(ValueError):
        UnderWayFirst(total=2, new_at_once=2)
