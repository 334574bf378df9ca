"""Workflows call activities by typed reference, and every one they can call is registered.

The worker registers the bound methods marked ``@implements(stub)`` on its activity classes;
this proves the set matches ``workers.activities.definitions`` name for name and type for type,
and that no workflow names an activity by a string.
"""

from __future__ import annotations

import ast
import typing
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from temporalio import activity

from workers.activities import definitions
from workers.activities.consent import ConsentActivities
from workers.activities.identities import IdentityActivities
from workers.activities.reports import ReportActivities
from workers.activities.requests import RequestActivities
from workers.activities.retention import RetentionActivities
from workers.worker import activities_of

WORKFLOWS = Path(__file__).resolve().parents[4] / "orchestrator" / "workflows"


def registered() -> dict[str, Any]:
    evidence: Any = SimpleNamespace(ledger=None)
    holders = (
        RequestActivities(evidence, connectors=None, ref_key=b"k"),  # type: ignore[arg-type]
        ReportActivities(evidence, transfers=None),  # type: ignore[arg-type]
        ConsentActivities(store=None, codec=None, evidence=evidence, connectors=None),  # type: ignore[arg-type]
        IdentityActivities(store=None, codec=None, connectors=None),  # type: ignore[arg-type]
        RetentionActivities(evidence, connectors=None, ref_key=b"k"),  # type: ignore[arg-type]
    )
    methods = activities_of(*holders)
    names = [activity._Definition.must_from_callable(m).name for m in methods]
    assert len(names) == len(set(names)), f"an activity is registered twice: {sorted(names)}"
    return dict(zip(names, methods, strict=True))


def test_every_activity_a_workflow_can_call_is_registered_with_the_same_types():
    implementations = registered()
    stubs = {definitions.name_of(stub): stub for stub in definitions.STUBS}
    assert set(stubs) == set(implementations), (
        f"stubs without implementation: {sorted(set(stubs) - set(implementations))}; "
        f"implementations without stub: {sorted(set(implementations) - set(stubs))}"
    )
    for name, stub in stubs.items():
        want = typing.get_type_hints(stub)
        got = typing.get_type_hints(implementations[name])
        assert got == want, f"{name}: implementation types {got} differ from the stub's {want}"


def _activity_calls(tree: ast.AST) -> list[ast.Call]:
    return [
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr in ("execute_activity", "start_activity", "_activity")
    ]


def test_workflows_call_activities_by_reference_never_by_name():
    calls = 0
    for path in sorted(WORKFLOWS.glob("*.py")):
        for call in _activity_calls(ast.parse(path.read_text())):
            if not call.args:
                continue
            first = call.args[0]
            assert not (isinstance(first, ast.Constant) and isinstance(first.value, str)), (
                f"{path.name}:{call.lineno} names an activity by the string {first.value!r}"
            )
            if isinstance(first, ast.Attribute) and isinstance(first.value, ast.Name):
                assert first.value.id == "definitions", f"{path.name}:{call.lineno}: not a typed stub"
                assert hasattr(definitions, first.attr), f"{path.name}:{call.lineno}: no stub {first.attr}"
                calls += 1
    assert calls >= 15, "the workflows' activity calls were not found: has the call style changed?"
