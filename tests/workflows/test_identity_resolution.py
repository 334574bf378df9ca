"""Identity resolution in the request workflow: before any system acts, the identity sources are
asked for every identifier they link to the subject; the whole set drives every system; identities
that point at two people wait for an operator, as the automatic identity check does."""

from __future__ import annotations

import pytest

from orchestrator.workflows.models import OperatorDecision
from orchestrator.workflows.request import RequestWorkflow
from schemas.vocabulary import REQUEST_TYPES
from tests.workflows.support import Harness, eventually, request_input, result, step
from workers.activities import definitions
from workers.messages.requests import IdentityResolution

DPO = "dpo@test"
CRM_SOURCE = step("crm", "link_identities", provides=["customer_id", "phone"], one_per_person=["customer_id"])
LINKED = {"customer_id": ["C-ADA-001"], "phone": ["+2250700000001"]}


@pytest.mark.parametrize("request_type", sorted(REQUEST_TYPES))
async def test_every_request_type_resolves_identities_first_and_every_system_gets_them(
    harness: Harness, request_type: str
) -> None:
    acts = harness.activities
    acts.resolution = IdentityResolution(linked=LINKED, rounds=2)
    details = {"purposes": ["marketing.communications"]} if request_type == "objection" else {}
    request = request_input(
        request_type,
        ("crm", "billing"),
        identity_sources=[CRM_SOURCE],
        details=details,
        absolute_objection_purposes=["marketing.communications"],
    )

    await result(await harness.start_request(request))

    (asked,) = acts.args(definitions.resolve_identities)
    assert asked.subject == {"email": "ada@example.org"}
    assert [source.system for source in asked.sources] == ["crm"]
    resolved_at = acts.called(definitions.resolve_identities)[0].at
    tasks = acts.args(definitions.apply_system_action)
    assert sorted(task.step.system for task in tasks) == ["billing", "crm"]
    for task in tasks:
        # What was given stays the subject; what was found travels beside it.
        assert task.subject == {"email": "ada@example.org"}
        assert task.linked == LINKED
        assert task.identities() == {"email": ["ada@example.org"], **LINKED}
    assert all(call.at >= resolved_at for call in acts.called(definitions.apply_system_action))


async def test_a_request_without_identity_sources_still_records_the_identities_used(harness: Harness) -> None:
    acts = harness.activities
    outcome = await result(await harness.start_request(request_input("erasure", ("crm",))))

    assert outcome.status == "completed"
    (asked,) = acts.args(definitions.resolve_identities)
    assert asked.sources == []
    (task,) = acts.args(definitions.apply_system_action)
    assert task.linked == {}


async def test_identities_pointing_at_two_people_wait_for_an_operator_then_run_with_all_of_them(
    harness: Harness,
) -> None:
    acts = harness.activities
    two = {"customer_id": ["C-ADA-001", "C-BRU-002"]}
    acts.resolution = IdentityResolution(
        linked=two, conflict="identity resolution found 2 different customer_id values", rounds=1
    )
    request = request_input("erasure", ("crm",), identity_sources=[CRM_SOURCE])
    handle = await harness.start_request(request)

    await eventually(
        lambda: "awaiting_verification" in [c.status for c in acts.args(definitions.record_request_status)],
        "the request to wait for verification",
    )
    waiting = await handle.query(RequestWorkflow.state)
    assert waiting.reason is not None and "2 different customer_id values" in waiting.reason
    assert not acts.args(definitions.apply_system_action)

    await handle.execute_update(
        RequestWorkflow.verify, OperatorDecision(DPO, "approve", "one person, two accounts")
    )
    outcome = await result(handle)

    assert outcome.status == "completed"
    (task,) = acts.args(definitions.apply_system_action)
    assert task.linked == two


async def test_identities_pointing_at_two_people_denied_touch_no_system(harness: Harness) -> None:
    acts = harness.activities
    acts.resolution = IdentityResolution(
        linked={"customer_id": ["C-ADA-001", "C-BRU-002"]},
        conflict="identity resolution found 2 different customer_id values",
    )
    handle = await harness.start_request(request_input("erasure", ("crm",), identity_sources=[CRM_SOURCE]))
    await eventually(
        lambda: "awaiting_verification" in [c.status for c in acts.args(definitions.record_request_status)],
        "the request to wait for verification",
    )

    await handle.execute_update(RequestWorkflow.verify, OperatorDecision(DPO, "deny", "two different people"))
    outcome = await result(handle)

    assert outcome.status == "rejected"
    assert not acts.args(definitions.apply_system_action)


async def test_a_broken_identity_source_waits_for_an_operator_and_runs_on_the_identities_given(
    harness: Harness,
) -> None:
    acts = harness.activities
    acts.resolution_broken = True
    handle = await harness.start_request(request_input("erasure", ("crm",), identity_sources=[CRM_SOURCE]))
    await eventually(
        lambda: "awaiting_verification" in [c.status for c in acts.args(definitions.record_request_status)],
        "the request to wait for verification",
    )
    waiting = await handle.query(RequestWorkflow.state)
    assert waiting.reason is not None and waiting.reason.startswith("identity resolution failed")

    await handle.execute_update(RequestWorkflow.verify, OperatorDecision(DPO, "approve", "checked by phone"))
    outcome = await result(handle)

    assert outcome.status == "completed"
    (task,) = acts.args(definitions.apply_system_action)
    assert task.linked == {}
