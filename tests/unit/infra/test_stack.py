"""The embedded Temporal dev server is started with a bounded workflow cache."""

from __future__ import annotations

import pytest

from infra.stack import _bounded_workflow_cache


def test_the_dev_server_caches_a_bounded_number_of_workflows(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PRIVACY_TEMPORAL_CACHE", raising=False)
    argv = _bounded_workflow_cache()
    assert argv[1::2] == ["history.hostLevelCacheMaxSize=200", "history.cacheMaxSize=200"]
    assert set(argv[::2]) == {"--dynamic-config-value"}
    monkeypatch.setenv("PRIVACY_TEMPORAL_CACHE", "0")
    with pytest.raises(SystemExit, match="PRIVACY_TEMPORAL_CACHE"):
        _bounded_workflow_cache()
