"""Settings read from the environment: a bad value stops the process with the variable's name."""

from __future__ import annotations

import pytest

from workers.runtime.settings import Settings


def test_the_worker_keeps_a_bounded_number_of_workflow_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PRIVACY_WORKFLOW_CACHE", raising=False)
    assert Settings().workflow_cache == 60
    monkeypatch.setenv("PRIVACY_WORKFLOW_CACHE", "50")
    assert Settings().workflow_cache == 50
    monkeypatch.setenv("PRIVACY_WORKFLOW_CACHE", "many")
    with pytest.raises(SystemExit, match="PRIVACY_WORKFLOW_CACHE"):
        _ = Settings().workflow_cache
