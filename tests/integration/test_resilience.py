"""Processes come back and evidence holds, on the real stack: a crashed service is restarted and
reported; readiness means a query answered, a namespace described, metadata answered; subject
references are keyed; the audit chain is sealed with a key and its exported head catches
truncation."""

from __future__ import annotations

import asyncio
import hashlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from temporalio.client import WorkflowExecutionStatus

from infra.processes import free_port
from infra.readiness import broker_ready, postgres_ready, temporal_ready
from schemas.identity import subject_refs
from tests.integration.conftest import RunningStack, rights_request
from workers.runtime.secrets import secret_keys


def _testco(request_type: str = "erasure") -> dict[str, Any]:
    return rights_request(request_type, {"email": "ada@example.org"}, tenant="testco", jurisdiction="BE")


async def _privacyctl(*argv: str) -> subprocess.CompletedProcess[str]:
    return await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "orchestrator.cli.main", *argv],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": "."},
    )


async def _eventually(check: Any, what: str, timeout: float = 90) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.2)


# -- processes come back ---------------------------------------------------------------------------
async def test_a_crashed_worker_is_restarted_reported_and_requests_still_close(stack: RunningStack):
    supervisor = stack.supervisor
    kept = supervisor.keeper_status("worker")
    assert kept is not None and kept.state == "running" and kept.pid
    crashed_pid, restarts_before = kept.pid, kept.restarts

    os.kill(crashed_pid, signal.SIGKILL)  # the service itself dies, as in an OOM kill

    def back() -> Any:
        now = supervisor.keeper_status("worker")
        running = now and now.state == "running" and now.restarts == restarts_before + 1
        return now if running and now.pid != crashed_pid else None

    restarted = await _eventually(back, "the worker to be restarted by its keeper")
    assert restarted.last_exit == -signal.SIGKILL
    status = await _privacyctl("status")
    worker_line = next(line for line in status.stdout.splitlines() if line.strip().startswith("worker"))
    assert "running" in worker_line and f"{restarts_before + 1} restart(s)" in worker_line
    assert f"last exit {-signal.SIGKILL}" in worker_line

    request = _testco("access")
    await stack.publish(request)
    await stack.wait_status(request["request_id"], "completed", timeout=120)


async def test_readiness_means_answering_not_an_open_port(stack: RunningStack):
    s = stack.settings
    assert await asyncio.to_thread(postgres_ready, s.pg_host, s.pg_port, s.pg_user)
    assert await asyncio.to_thread(temporal_ready, s.temporal_address, s.temporal_namespace)
    assert await asyncio.to_thread(broker_ready, s.kafka_bootstrap)
    assert not await asyncio.to_thread(temporal_ready, s.temporal_address, "no-such-namespace")
    assert not await asyncio.to_thread(postgres_ready, s.pg_host, free_port(), s.pg_user)


# -- secrets and evidence ----------------------------------------------------------------------------
async def test_subject_references_in_the_ledger_are_keyed(stack: RunningStack):
    request = _testco("access")
    await stack.publish(request)
    await stack.wait_status(request["request_id"], "completed", timeout=120)
    [row] = await stack.fetch(
        "privacy", "SELECT subject_refs FROM requests WHERE request_id = $1", request["request_id"]
    )
    key = secret_keys(stack.settings.state_dir).subject_ref
    assert row["subject_refs"] == subject_refs(key, "testco", {"email": "ada@example.org"})
    plain = hashlib.sha256(b"testco|email|ada@example.org").hexdigest()
    assert plain not in row["subject_refs"]


async def test_the_audit_chain_is_sealed_and_its_head_catches_truncation(stack: RunningStack, tmp_path: Path):
    request = _testco()
    await stack.publish(request)
    rid = request["request_id"]
    await stack.wait_status(rid, "in_progress")
    await stack.api("POST", f"/v1/requests/{rid}/cancellation", {"reason": "sent twice"})
    await stack.wait_status(rid, "cancelled")

    head = await _privacyctl("audit", "head")
    assert head.returncode == 0, head.stderr
    exported = tmp_path / "audit-head.json"
    exported.write_text(head.stdout)
    intact = await _privacyctl("audit", "verify", "--head", str(exported))
    assert intact.returncode == 0 and "intact" in intact.stdout, intact.stderr

    conn = await stack.db("privacy")
    try:
        last = await conn.fetchrow("SELECT * FROM audit_log ORDER BY seq DESC LIMIT 1")
        # A forger without the key re-hashes an edited entry the old, unkeyed way: detected.
        forged = hashlib.sha256(b"nothing to see").hexdigest()
        await conn.execute(
            "UPDATE audit_log SET reason = 'nothing to see', hash = $2, seal = 'sha256' WHERE seq = $1",
            last["seq"],
            forged,
        )
        rehashed = await _privacyctl("audit", "verify")
        assert rehashed.returncode == 1 and "not sealed with the audit key" in rehashed.stderr
        await conn.execute(
            "UPDATE audit_log SET reason = $2, hash = $3, seal = $4 WHERE seq = $1",
            last["seq"], last["reason"], last["hash"], last["seal"],
        )  # fmt: skip

        # Cutting the last entry off leaves a valid, shorter chain; only the exported head tells.
        await conn.execute("DELETE FROM audit_log WHERE seq = $1", last["seq"])
        shorter = await _privacyctl("audit", "verify")
        assert shorter.returncode == 0
        truncated = await _privacyctl("audit", "verify", "--head", str(exported))
        assert truncated.returncode == 1 and "truncated" in truncated.stderr
    finally:
        columns = list(last.keys())
        values = ", ".join(f"${i + 1}" for i in range(len(columns)))
        await conn.execute(
            f"INSERT INTO audit_log ({', '.join(columns)}) VALUES ({values}) ON CONFLICT DO NOTHING",
            *last.values(),
        )
        await conn.close()
    restored = await _privacyctl("audit", "verify", "--head", str(exported))
    assert restored.returncode == 0, restored.stderr


# -- a lost system -----------------------------------------------------------------------------------
async def test_a_terminated_system_is_recorded_failed_and_an_operator_retry_starts_it_again(
    stack: RunningStack,
):
    request = _testco()
    await stack.publish(request)
    rid = request["request_id"]

    async def archive() -> dict[str, Any] | None:
        view = await stack.ledger.request(rid)
        return next((s for s in (view or {}).get("systems", []) if s["system"] == "paper_archive"), None)

    async def archive_is(outcome: str) -> dict[str, Any]:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            found = await archive()
            if found and found["outcome"] == outcome:
                return found
            await asyncio.sleep(0.2)
        raise AssertionError(f"paper_archive never became {outcome}: {await archive()}")

    await archive_is("pending")
    child = stack.client.get_workflow_handle(f"privacy-request-{rid}/system/paper_archive")
    await child.terminate(reason="stuck task, terminated from the UI")

    lost = await archive_is("failed")
    assert "TerminatedError" in (lost["error"] or "") and "retry" in (lost["error"] or "")
    assert (await stack.ledger.request(rid))["status"] == "in_progress"

    retried = await _privacyctl("retry", rid, "paper_archive", "--reason", "archive back online")
    assert retried.returncode == 0, retried.stderr
    assert '"request workflow"' in retried.stdout  # the old one is gone: the request starts a new one

    async def started_again() -> bool:
        description = await stack.client.get_workflow_handle(child.id).describe()
        return description.status == WorkflowExecutionStatus.RUNNING

    deadline = time.monotonic() + 60
    while not await started_again():
        assert time.monotonic() < deadline, "the system's workflow was not started again"
        await asyncio.sleep(0.2)

    status, _ = await stack.api(
        "POST",
        f"/v1/requests/{rid}/systems/paper_archive/confirmation",
        {"outcome": "erased", "reason": "file shredded", "evidence": {}},
    )
    assert status == 200
    view = await stack.closed(rid)
    assert {s["system"]: s["outcome"] for s in view["systems"]}["paper_archive"] == "erased"
    _, audit = await stack.api("GET", f"/v1/requests/{rid}/audit")
    assert ("retry_system", "archive back online") in [(e["action"], e["reason"]) for e in audit["entries"]]
