"""Recorded histories of every workflow type replay on the current code: a change that would
break workflows already running (a new command without ``workflow.patched``) fails here, before
a deploy. The histories are recorded by ``python -m tests.workflows.record_histories``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from temporalio.client import WorkflowHistory
from temporalio.worker import Replayer

from orchestrator.workflows.worker import sandboxed_runner
from tests.workflows.support import WORKFLOWS

HISTORIES = sorted((Path(__file__).parent / "histories").glob("*.json"))


def _history(path: Path) -> WorkflowHistory:
    document = json.loads(path.read_text())
    return WorkflowHistory.from_json(document["workflow_id"], document["history"])


def test_every_workflow_type_has_recorded_histories() -> None:
    recorded = {path.name.split(".")[1] for path in HISTORIES}
    assert recorded == {workflow.__temporal_workflow_definition.name for workflow in WORKFLOWS}  # type: ignore[attr-defined]


@pytest.mark.parametrize("path", HISTORIES, ids=[path.stem for path in HISTORIES])
async def test_recorded_history_replays_on_the_current_code(path: Path) -> None:
    replayer = Replayer(
        workflows=list(WORKFLOWS),
        workflow_runner=sandboxed_runner(),
    )
    await replayer.replay_workflow(_history(path))
