"""The keeper restarts a crashing service with backoff, gives up on one that will not stay up,
and the supervisor reports that instead of waiting; real processes, short backoff."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from infra.keeper import FIRST_BACKOFF_ENV, MAX_BACKOFF, MAX_CRASHES, backoff, keeper_argv, read_status
from infra.processes import ProcessSpec, ProcessSupervisor, StackError

FAST = {FIRST_BACKOFF_ENV: "0.01"}


def _keeper(status: Path, *argv: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "infra.keeper", str(status), "--", *argv],
        env={**os.environ, **FAST},
        start_new_session=True,
    )


def _eventually(check, what: str, timeout: float = 30.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def test_backoff_doubles_up_to_a_bound():
    assert [backoff(n) for n in (1, 2, 3, 4)] == [1, 2, 4, 8]
    assert backoff(20) == MAX_BACKOFF


def test_a_service_that_keeps_crashing_is_given_up_on(tmp_path):
    status = tmp_path / "svc.keeper.json"
    keeper = _keeper(status, sys.executable, "-c", "import sys; sys.exit(3)")
    assert keeper.wait(timeout=60) == 1
    kept = read_status(status)
    assert kept is not None
    assert (kept.state, kept.restarts, kept.last_exit) == ("gave_up", MAX_CRASHES - 1, 3)


def test_a_crashed_service_comes_back_and_a_stop_is_not_a_crash(tmp_path):
    status = tmp_path / "svc.keeper.json"
    marker = tmp_path / "crashed-once"
    script = (
        "import pathlib, sys, time\n"
        f"m = pathlib.Path({str(marker)!r})\n"
        "if not m.exists():\n    m.touch(); sys.exit(7)\n"
        "time.sleep(600)\n"
    )
    keeper = _keeper(status, sys.executable, "-c", script)
    try:

        def back_up() -> bool:
            kept = read_status(status)
            return kept is not None and kept.state == "running" and kept.restarts == 1

        _eventually(back_up, "the service to be restarted")
        kept = read_status(status)
        assert kept is not None and kept.last_exit == 7
        os.killpg(keeper.pid, signal.SIGTERM)  # how the stack stops a service
        assert keeper.wait(timeout=30) == 0
        final = read_status(status)
        assert final is not None and final.state == "stopped" and final.restarts == 1
    finally:
        if keeper.poll() is None:
            os.killpg(keeper.pid, signal.SIGKILL)


def test_the_supervisor_reports_a_service_that_will_not_stay_up(tmp_path):
    supervisor = ProcessSupervisor(tmp_path)
    spec = ProcessSpec(
        "broken",
        [sys.executable, "-c", "import sys; print('cannot start'); sys.exit(2)"],
        env=FAST,
        ready=lambda: False,
        keep_up=True,
    )
    with pytest.raises(StackError) as refused:
        supervisor.start(spec, timeout=60)
    assert "will not stay up" in str(refused.value)
    assert f"{MAX_CRASHES - 1} restarts, last exit 2" in str(refused.value)
    assert "cannot start" in str(refused.value)  # the log's tail says why


def _crashes_once(tmp_path: Path) -> str:
    """A service that exits 7 on its first start and then runs for good."""
    marker = tmp_path / "crashed-once"
    return (
        "import pathlib, sys, time\n"
        f"m = pathlib.Path({str(marker)!r})\n"
        "if not m.exists():\n    m.touch(); sys.exit(7)\n"
        "time.sleep(600)\n"
    )


def test_after_a_restart_the_server_counts_as_up_only_once_its_recovery_succeeded(tmp_path):
    """How the stack's servers come back: restarting (readiness, topics) until recovered, then running."""
    status, recovered = tmp_path / "srv.keeper.json", tmp_path / "recovered"
    wait_for = f"import pathlib, time\nwhile not pathlib.Path({str(recovered)!r}).exists(): time.sleep(0.05)"
    recovery = [sys.executable, "-c", wait_for]
    argv = keeper_argv(status, [sys.executable, "-c", _crashes_once(tmp_path)], after_restart=recovery)
    keeper = subprocess.Popen(argv, env={**os.environ, **FAST}, start_new_session=True)
    try:

        def state() -> str | None:
            kept = read_status(status)
            return kept.state if kept else None

        _eventually(lambda: state() == "restarting", "the restarted server to wait for its recovery")
        recovered.touch()
        _eventually(lambda: state() == "running", "the recovered server to count as running")
        kept = read_status(status)
        assert kept is not None and (kept.restarts, kept.last_exit) == (1, 7)
        os.killpg(keeper.pid, signal.SIGINT)  # how the stack stops PostgreSQL (fast shutdown)
        assert keeper.wait(timeout=30) == 0
        final = read_status(status)
        assert final is not None and final.state == "stopped" and final.restarts == 1
    finally:
        if keeper.poll() is None:
            os.killpg(keeper.pid, signal.SIGKILL)


def test_a_server_that_does_not_recover_after_a_restart_counts_as_crashed(tmp_path):
    status = tmp_path / "srv.keeper.json"
    never = [sys.executable, "-c", "import sys; sys.exit(1)"]
    argv = keeper_argv(status, [sys.executable, "-c", _crashes_once(tmp_path)], after_restart=never)
    keeper = subprocess.Popen(argv, env={**os.environ, **FAST}, start_new_session=True)
    assert keeper.wait(timeout=60) == 1
    kept = read_status(status)
    assert kept is not None and kept.state == "gave_up" and kept.restarts == MAX_CRASHES - 1
