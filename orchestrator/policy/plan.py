"""Turn a tenant's pack and a request into a plan: which systems, which action each. Pure."""

from __future__ import annotations

from orchestrator.policy.packs import PolicyPack
from workers.messages import SystemStep


def plan_request(pack: PolicyPack, request_type: str) -> list[SystemStep]:
    """One step per system of the data map that has a rule for this request type.

    A system without a rule for the type holds nothing that type can act on (the pack
    author's statement), so it is left out; an empty plan means the tenant cannot honour
    the type and the request is rejected with that reason.
    """
    steps = []
    for system in pack.systems:
        rule = system["actions"].get(request_type)
        if rule is None:
            continue
        steps.append(
            SystemStep(
                system=system["name"],
                action=rule["action"],
                connector=dict(system["connector"]),
                rule=dict(rule),
                disclosure={
                    key: system[key]
                    for key in ("description", "categories", "purposes", "recipients", "retention")
                    if key in system
                },
            )
        )
    return steps
