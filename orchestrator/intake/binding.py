"""Is this confirmation an answer to a task we sent? Pure checks, each failure a DLQ reason.

Anyone who can publish on ``privacy.confirmations.v1`` could otherwise settle any system of any
request (an OpenDSR partner's step, an operator's manual step). An answer is taken only when:
the system's connector answers on that topic (a kafka_confirm system), the tenant it names (if
any) is the request's, and it echoes the unguessable task id issued with the task. Partners
settle only through signed callbacks, operators only through audited actions.
"""

from __future__ import annotations

from orchestrator.policy.packs import PolicyPack
from schemas import ContractViolation
from schemas.models import Confirmation
from workers.connectors.registry import confirms_on_topic
from workers.runtime.task_ids import TaskIds

# plan.py names the step that tells a recipient ``notify-<recipient name>``.
RECIPIENT_PREFIX = "notify-"


def connector_kind(pack: PolicyPack, system: str) -> str | None:
    """The connector kind of ``system`` (a pack system, or a recipient's notify step)."""
    for entry in pack.systems:
        if entry["name"] == system:
            return str(entry["connector"]["kind"])
    for recipient in pack.document.get("recipients", []):
        if RECIPIENT_PREFIX + recipient["name"] == system:
            return str(recipient["connector"]["kind"])
    return None


def check_binding(
    confirmation: Confirmation, *, scope: str, tenant: str, pack: PolicyPack | None, task_ids: TaskIds
) -> None:
    """Raise ContractViolation (wrong_tenant, not_confirmed_on_topic, unbound_confirmation)
    unless the confirmation answers the task sent to that system of that tenant's request."""
    if confirmation.tenant is not None and confirmation.tenant != tenant:
        raise ContractViolation("wrong_tenant", "tenant: not the tenant of this request")
    kind = connector_kind(pack, confirmation.system) if pack is not None else None
    if kind is None or not confirms_on_topic(kind):
        raise ContractViolation(
            "not_confirmed_on_topic",
            f"system: {confirmation.system!r} ({kind or 'unknown kind'}) does not answer on this "
            "topic; partners confirm by signed callback, manual steps by an operator's action",
        )
    if not confirmation.task_id:
        raise ContractViolation("unbound_confirmation", "task_id: missing (echo the task's task_id)")
    asked = (scope, tenant, confirmation.request_id, confirmation.system)
    if not task_ids.matches(confirmation.task_id, *asked):
        raise ContractViolation("unbound_confirmation", "task_id: not the id of the task sent to this system")
