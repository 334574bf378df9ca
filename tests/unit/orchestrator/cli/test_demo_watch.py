"""``make run`` names a service that will not stay up instead of waiting on the demo for ever."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from infra.services import SERVICES
from infra.stack import INFRA_PARTS
from orchestrator.cli.demo import ServiceDown, services_down, wait_closed
from workers.runtime.settings import Settings


def test_a_service_whose_keeper_gave_up_is_named_with_its_restarts_and_log(tmp_path, monkeypatch):
    monkeypatch.setenv("PRIVACY_STATE_DIR", str(tmp_path))
    settings = Settings()
    run = tmp_path / "run"
    run.mkdir()
    status = {
        "state": "gave_up",
        "pid": None,
        "restarts": 4,
        "last_exit": 1,
        "last_exit_at": None,
        "crashes": [],
    }
    (run / "intake.keeper.json").write_text(json.dumps(status))

    problems = services_down(settings)

    assert len(problems) == len(INFRA_PARTS) + len(SERVICES)  # nothing runs in this empty state dir
    [intake] = [p for p in problems if p.startswith("intake")]
    assert "4 restart(s), last exit 1" in intake and "intake.log" in intake


class _NoLedger:
    async def request(self, request_id: str) -> Any:
        return None


def test_waiting_on_the_demo_stops_when_a_service_is_down():
    wait = wait_closed(_NoLedger(), ["r-1"], timeout=600, progress=False, watch=lambda: ["intake is down"])  # type: ignore[arg-type]
    with pytest.raises(ServiceDown, match="intake is down"):
        asyncio.run(wait)
