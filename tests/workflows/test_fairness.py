"""Fair under a burst: a request's later steps are scheduled with a higher task-queue priority
than its first ones, so a request further along goes before newer requests (issue 13)."""

from __future__ import annotations

from temporalio.api.enums.v1 import EventType

from orchestrator.workflows.fairness import LEVELS, priority_after
from tests.workflows.support import Harness, request_input, result


def test_priority_rises_with_the_steps_done_and_stays_at_the_top() -> None:
    keys = [priority_after(done).priority_key or 0 for done in range(LEVELS + 3)]
    assert keys[0] == LEVELS  # a new request's first step: the lowest priority
    assert keys == sorted(keys, reverse=True)
    assert keys[-3:] == [1, 1, 1]


async def test_each_step_of_a_request_is_scheduled_sooner_than_the_one_before(harness: Harness) -> None:
    request = request_input("erasure", ("crm",))
    request.steps[0].answers_later = False  # acted on by the request itself
    handle = await harness.start_request(request)
    await result(handle)

    history = await handle.fetch_history()
    scheduled = [
        (
            event.activity_task_scheduled_event_attributes.activity_type.name,
            event.activity_task_scheduled_event_attributes.priority.priority_key,
        )
        for event in history.events
        if event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED
    ]
    keys = [key for _, key in scheduled]
    # The ledger's steps are local activities (no queue); the identity and connector steps queue.
    assert [name for name, _ in scheduled] == ["resolve_identities", "apply_system_action"]
    assert keys[0] == LEVELS
    assert keys == sorted(keys, reverse=True), scheduled
    assert keys[-1] == 1, scheduled
