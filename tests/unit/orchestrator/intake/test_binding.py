"""A confirmation is taken only from a system that answers on the topic, of the request's
tenant, echoing the task id issued with the task; anything else is refused with its reason."""

import os
from dataclasses import replace
from datetime import UTC, datetime

import pytest

from orchestrator.intake.binding import check_binding, connector_kind
from orchestrator.policy.packs import load_packs
from schemas import ContractViolation
from schemas.models import Confirmation
from workers.runtime.task_ids import CONSENT_BATCH_TASK, REQUEST_TASK, TaskIds

REQUEST = "6f1c2d3e-4b5a-4c7d-8e9f-0a1b2c3d4e5f"
IDS = TaskIds(os.urandom(32))
PACKS = load_packs()


def _answer(system: str, **change: object) -> Confirmation:
    task_id = IDS.issue(REQUEST_TASK, "upjunoo", REQUEST, system)
    confirmation = Confirmation(
        REQUEST, system, "erased", datetime.now(UTC), task_id=task_id, tenant="upjunoo"
    )
    return replace(confirmation, **change)  # type: ignore[arg-type]


def _check(confirmation: Confirmation, scope: str = REQUEST_TASK) -> None:
    check_binding(confirmation, scope=scope, tenant="upjunoo", pack=PACKS["upjunoo"], task_ids=IDS)


def test_the_answer_to_the_task_sent_is_taken():
    assert connector_kind(PACKS["upjunoo"], "marketing_list") == "kafka_confirm"
    _check(_answer("marketing_list"))
    _check(_answer("marketing_list", tenant=None))  # the tenant is optional; the task id binds it


@pytest.mark.parametrize(
    ("confirmation", "reason"),
    [
        (_answer("marketing_list", task_id=""), "unbound_confirmation"),
        (_answer("marketing_list", task_id=f"{REQUEST}/marketing_list"), "unbound_confirmation"),
        (_answer("marketing_list", tenant="jump"), "wrong_tenant"),
        (_answer("crm"), "not_confirmed_on_topic"),  # an SQL system answers by its activity
        (_answer("no_such_system"), "not_confirmed_on_topic"),
    ],
)
def test_anything_else_is_refused_with_its_reason(confirmation, reason):
    with pytest.raises(ContractViolation) as caught:
        _check(confirmation)
    assert caught.value.reason == reason


def test_a_partner_or_manual_step_settles_only_by_signed_callback_or_operator():
    for tenant, pack in PACKS.items():
        for entry in pack.systems:
            if entry["connector"]["kind"] in ("opendsr", "manual"):
                task_id = IDS.issue(REQUEST_TASK, tenant, REQUEST, entry["name"])
                forged = Confirmation(REQUEST, entry["name"], "erased", datetime.now(UTC), task_id=task_id)
                with pytest.raises(ContractViolation) as caught:
                    check_binding(forged, scope=REQUEST_TASK, tenant=tenant, pack=pack, task_ids=IDS)
                assert caught.value.reason == "not_confirmed_on_topic"


def test_a_request_task_id_does_not_answer_a_consent_batch():
    with pytest.raises(ContractViolation, match="task_id"):
        _check(_answer("marketing_list"), scope=CONSENT_BATCH_TASK)
