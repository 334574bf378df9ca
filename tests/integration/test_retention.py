"""Retention promises that keep themselves, on the real stack, with KeepCo's second-scale test pack
(tests/integration/packs/keepco.json): sweeps run by their Temporal Schedules erase what is past
its period with evidence (counts), skip held subjects, list without deleting on a dry run; what
an erasure retained is erased when its retained_until passes; and the orchestrator's own copies
(reports, records) are sealed at rest, purged after their period (410) and with the person."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import asyncpg
import pytest

from infra.bootstrap import ensure_database
from orchestrator.policy.packs import load_packs
from orchestrator.schedules import dry_run, ensure_schedules
from orchestrator.workflows.retention_sweep import LEDGER_SCHEDULE_ID, sweep_schedule_id
from schemas import REQUEST_EVENTS_TOPIC
from tests.integration.conftest import RunningStack, rights_request

KATE = {"email": "kate@example.org", "phone": "+32470000001", "customer_id": "K-1"}
HUGO = {"email": "hugo@example.org", "phone": "+32470000002", "customer_id": "K-2"}
SCHEMA = {
    "sandbox_keepco_crm": """
        CREATE TABLE IF NOT EXISTS customers (
            customer_id text PRIMARY KEY, email text NOT NULL, phone text, full_name text NOT NULL,
            last_active_at timestamptz, ended_at timestamptz, restricted boolean NOT NULL DEFAULT false);
        CREATE TABLE IF NOT EXISTS notes (note_id text PRIMARY KEY, customer_id text NOT NULL, body text);
        TRUNCATE customers, notes;
        INSERT INTO customers (customer_id, email, phone, full_name, last_active_at, ended_at) VALUES
            ('K-1', 'kate@example.org', '+32470000001', 'Kate Claes', now() - interval '3 days', NULL),
            ('K-2', 'hugo@example.org', '+32470000002', 'Hugo Maes', '2021-01-05', '2022-01-01'),
            ('K-3', 'ines@example.org', '+32470000003', 'Ines Wouters', '2022-02-01', '2022-03-01');
        INSERT INTO notes (note_id, customer_id, body) VALUES
            ('N-1', 'K-1', 'prefers calls in the morning'),
            ('N-2', 'K-2', 'asked about a refund'),
            ('N-3', 'K-3', 'moved to Ghent');
    """,
    "sandbox_keepco_billing": """
        CREATE TABLE IF NOT EXISTS invoices (
            invoice_id text PRIMARY KEY, customer_id text, email text, phone text, amount integer NOT NULL,
            restricted boolean NOT NULL DEFAULT false);
        TRUNCATE invoices;
        INSERT INTO invoices VALUES ('INV-1', 'K-1', 'kate@example.org', '+32470000001', 4200, false);
    """,
    "sandbox_keepco_calls": """
        CREATE TABLE IF NOT EXISTS calls (
            file_path text PRIMARY KEY, customer_id text, caller_phone text, kind text NOT NULL,
            recorded_at timestamptz NOT NULL);
        TRUNCATE calls;
        INSERT INTO calls VALUES
            ('kate-old-1.wav', 'K-1', '+32470000001', 'driver', '2025-06-14T19:01:00Z'),
            ('kate-old-2.wav', 'K-1', '+32470000001', 'driver', '2025-06-20T08:00:00Z'),
            ('kate-old-3.wav', 'K-1', '+32470000001', 'driver', '2025-07-02T08:00:00Z'),
            ('kate-recent.wav', 'K-1', '+32470000001', 'driver', now() - interval '2 days'),
            ('kate-support.wav', 'K-1', '+32470000001', 'support', '2025-06-14T19:01:00Z'),
            ('hugo-old.wav', 'K-2', '+32470000002', 'driver', '2025-06-15T09:00:00Z');
    """,
}


@pytest.fixture
async def keepco(stack: RunningStack) -> AsyncIterator[RunningStack]:
    """KeepCo's three sandbox databases and call files, back to their starting state."""
    for database, sql in SCHEMA.items():
        await ensure_database(stack.settings, database)
        conn = await stack.db(database)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()
    folder = stack.settings.sandbox_dir / "keepco" / "calls"
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("*.wav"):
        old.unlink()
    for row in await stack.fetch("sandbox_keepco_calls", "SELECT file_path FROM calls"):
        (folder / row["file_path"]).write_bytes(b"RIFF a recorded call")
    await stack.fetch(
        stack.settings.pg_database, "DELETE FROM legal_holds WHERE tenant = 'keepco' RETURNING 1"
    )
    yield stack


def calls_on_disk(stack: RunningStack) -> list[str]:
    return sorted(p.name for p in (stack.settings.sandbox_dir / "keepco" / "calls").glob("*.wav"))


async def until(check: Callable[[], Awaitable[Any]], what: str, timeout: float = 90) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = await check()
        if found:
            return found
        await asyncio.sleep(0.5)
    raise AssertionError(f"never: {what}")


async def run_by_schedule(stack: RunningStack, rule: str, since: datetime) -> dict[str, Any]:
    """Trigger the rule's schedule (as its interval would) and wait for the run's evidence."""
    await stack.client.get_schedule_handle(sweep_schedule_id("keepco", rule)).trigger()

    async def recorded() -> dict[str, Any] | None:
        rows = await stack.ledger.retention_runs.runs("keepco", rule)
        done = [r for r in rows if not r["dry_run"] and datetime.fromisoformat(r["finished_at"]) > since]
        return done[0] if done else None

    found: dict[str, Any] = await until(recorded, f"a {rule} run in retention_runs")
    return found


async def test_old_recordings_vanish_by_schedule_with_evidence_and_a_held_subjects_stay(keepco: RunningStack):
    stack = keepco
    status, _ = await stack.api("POST", "/v1/holds", {"tenant": "keepco", "subject": {"customer_id": "K-2"},
                                                      "reason": "judicial proceedings"})  # fmt: skip
    assert status == 200
    since = datetime.now(UTC)

    run = await run_by_schedule(stack, "old-calls", since)

    assert (run["acted"], run["skipped_held"], run["files_deleted"]) == (3, 1, 3)
    assert run["batches"] >= 2, "batch_size 2: the sweep works in bounded batches"
    assert calls_on_disk(stack) == ["hugo-old.wav", "kate-recent.wav", "kate-support.wav"]
    rows = await stack.fetch("sandbox_keepco_calls", "SELECT file_path FROM calls ORDER BY file_path")
    assert [r["file_path"] for r in rows] == ["hugo-old.wav", "kate-recent.wav", "kate-support.wav"]
    [event] = await stack.read_topic(
        REQUEST_EVENTS_TOPIC, lambda v: v.get("kind") == "retention_run" and v["request_id"] == run["run_id"]
    )
    assert (event["acted"], event["skipped_held"], event["rule"]) == (3, 1, "old-calls")
    assert not any(value in str(event) for value in (*KATE.values(), *HUGO.values())), "counts, no identities"


async def test_a_dry_run_lists_what_would_go_without_deleting(keepco: RunningStack):
    stack = keepco
    command = [sys.executable, "-m", "orchestrator.cli.main", "retention", "dry-run", "keepco"]
    done = await asyncio.to_thread(
        subprocess.run, command, capture_output=True, text=True, env={**os.environ, "PYTHONPATH": "."}
    )

    assert done.returncode == 0, done.stderr
    found = {r["rule"]: (r["would_go"], r["system"]) for r in json.loads(done.stdout)}
    assert found == {
        "old-calls": (4, "calls"),  # three of Kate's and one of Hugo's older than 30 days
        "inactive-customers": (2, "crm"),  # Hugo and Ines: last active more than 3 years ago
        "notes-of-former-customers": (2, "crm"),
    }
    assert not any(value in done.stdout for value in (*KATE.values(), *HUGO.values())), (
        "counts, no identities"
    )
    assert len(calls_on_disk(stack)) == 6
    assert len(await stack.fetch("sandbox_keepco_crm", "SELECT 1 FROM customers")) == 3
    recorded = await stack.ledger.retention_runs.runs("keepco", "old-calls")
    assert recorded[0]["dry_run"] is True, "a dry run keeps its evidence too, marked as such"


async def test_sql_sweeps_erase_inactive_customers_and_anonymise_notes_of_former_ones(keepco: RunningStack):
    """Hugo's legal hold ended just now: a period counts from the end of a hold, so his notes
    (kept while he is a customer, period zero) go, but his customer record (3 years) stays."""
    stack = keepco
    _, hold = await stack.api("POST", "/v1/holds", {"tenant": "keepco", "subject": HUGO,
                                                    "reason": "claim"})  # fmt: skip
    status, _ = await stack.api("POST", f"/v1/holds/{hold['hold_id']}/release", {"reason": "claim settled"})
    assert status == 200
    since = datetime.now(UTC)
    notes = await run_by_schedule(stack, "notes-of-former-customers", since)
    customers = await run_by_schedule(stack, "inactive-customers", since)

    assert (notes["acted"], notes["skipped_held"]) == (2, 0)
    assert (customers["acted"], customers["skipped_held"]) == (1, 1)
    left = await stack.fetch("sandbox_keepco_crm", "SELECT customer_id FROM customers ORDER BY customer_id")
    assert [r["customer_id"] for r in left] == ["K-1", "K-2"]
    bodies = await stack.fetch("sandbox_keepco_crm", "SELECT note_id, body FROM notes ORDER BY note_id")
    assert [(r["note_id"], r["body"]) for r in bodies] == [
        ("N-1", "prefers calls in the morning"), ("N-2", None), ("N-3", None)
    ]  # fmt: skip
    again = await run_by_schedule(stack, "notes-of-former-customers", datetime.now(UTC))
    assert again["acted"] == 0, "a row already anonymised is not swept again"


async def test_a_retained_invoice_is_erased_when_its_retained_until_passes(keepco: RunningStack):
    stack = keepco
    request = rights_request("erasure", KATE, tenant="keepco", jurisdiction="BE")
    await stack.publish(request)
    view = await stack.closed(request["request_id"])
    billing = next(s for s in view["systems"] if s["system"] == "billing")
    assert billing["outcome"] == "retained" and billing["retained_until"]
    assert await stack.fetch("sandbox_keepco_billing", "SELECT 1 FROM invoices WHERE invoice_id = 'INV-1'")

    async def erased() -> bool:
        found = await stack.ledger.system_result(request["request_id"], "billing")
        return found is not None and found.outcome == "erased"

    await until(erased, "billing erased at the end of its retention")
    assert not await stack.fetch(
        "sandbox_keepco_billing", "SELECT 1 FROM invoices WHERE invoice_id = 'INV-1'"
    )
    result = await stack.ledger.system_result(request["request_id"], "billing")
    assert result is not None and "erased_when_retention_ended" in result.evidence


async def test_a_report_is_sealed_at_rest_and_gone_after_its_period(keepco: RunningStack):
    stack = keepco
    request = rights_request("access", KATE, tenant="keepco", jurisdiction="BE")
    await stack.publish(request)
    await stack.closed(request["request_id"])
    status, report = await stack.api("GET", f"/v1/requests/{request['request_id']}/report")
    assert status == 200 and "kate@example.org" in str(report), "read through the API, it opens"

    conn = await asyncpg.connect(stack.settings.pg_dsn())
    try:
        row = await conn.fetchrow("SELECT * FROM reports WHERE request_id = $1", request["request_id"])
        assert row["report"] is None and row["html"] is None and row["sealed"]
        assert b"kate@example.org" not in bytes(row["sealed"])
        records = await conn.fetch(
            "SELECT records, records_sealed FROM request_systems WHERE request_id = $1", request["request_id"]
        )
        assert all(r["records"] is None for r in records) and any(r["records_sealed"] for r in records)
    finally:
        await conn.close()

    async def gone() -> dict[str, Any] | None:
        # KeepCo keeps its copies 3 seconds after the close: the ledger schedule purges them.
        await stack.client.get_schedule_handle(LEDGER_SCHEDULE_ID).trigger()
        code, body = await stack.api("GET", f"/v1/requests/{request['request_id']}/report")
        return body if code == 410 else None

    body = await until(gone, "the report purged after its period")
    assert "period" in body["reason"] and body["purged_at"]


async def test_an_erased_persons_ledger_rows_hold_no_clear_identity(keepco: RunningStack):
    stack = keepco
    access = rights_request("access", KATE, tenant="keepco", jurisdiction="BE")
    await stack.publish(access)
    await stack.closed(access["request_id"])
    erasure = rights_request("erasure", KATE, tenant="keepco", jurisdiction="BE")
    await stack.publish(erasure)
    await stack.closed(erasure["request_id"])

    async def purged() -> bool:
        code, _ = await stack.api("GET", f"/v1/requests/{access['request_id']}/report")
        return code == 410

    await until(purged, "the access report purged when the erasure closed")
    conn = await asyncpg.connect(stack.settings.pg_dsn())
    try:
        tables = [
            r["tablename"]
            for r in await conn.fetch("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        ]
        holding = {}
        for table in tables:
            for value in (KATE["email"], KATE["phone"], "Kate Claes"):
                found = await conn.fetchval(
                    f'SELECT count(*) FROM "{table}" t WHERE t::text ILIKE $1', f"%{value}%"
                )
                if found:
                    holding[(table, value)] = found
        assert holding == {}, f"clear identities left in the ledger: {holding}"
        kept = await conn.fetchval(
            "SELECT count(*) FROM requests WHERE request_id = ANY($1::uuid[])",
            [access["request_id"], erasure["request_id"]],
        )
        assert kept == 2, "that the requests existed, and what was done, stays"
    finally:
        await conn.close()


async def test_schedules_are_made_at_start_up_and_stay_paused_when_an_operator_paused_them(
    keepco: RunningStack,
):
    stack = keepco
    handle = stack.client.get_schedule_handle(sweep_schedule_id("keepco", "old-calls"))
    described = await handle.describe()
    assert [i.every.total_seconds() for i in described.schedule.spec.intervals] == [3600]
    await handle.pause(note="operator: audit in progress")
    try:
        await ensure_schedules(stack.client, load_packs(), stack.settings.task_queue)  # a worker restart
        again = await handle.describe()
        assert again.schedule.state.paused and again.schedule.state.note == "operator: audit in progress"
    finally:
        await handle.unpause()


async def test_every_seed_retention_promise_is_observable_in_the_sandbox(stack: RunningStack):
    """The sandboxes hold what each seed promises to delete: old calls, inactive customers, old
    connection logs (by their own date), ended contracts and surveys, former customers' notes."""
    await stack.reseed()
    packs = load_packs()
    examined = {}
    for tenant in ("upjunoo", "jsm", "j2s", "nexio"):
        for run in await dry_run(stack.client, packs[tenant], stack.settings.task_queue):
            examined[(tenant, run.rule)] = run.totals.examined

    assert examined[("upjunoo", "driver-courier-shop-calls")] >= 3  # Ada's, Bruno's, Chloé's from mid-2025
    assert examined[("upjunoo", "support-calls")] >= 2  # Ada's (June 2025) and Chloé's (August 2025)
    assert examined[("jsm", "inactive-customers")] >= 1
    assert examined[("j2s", "connection-logs")] >= 2
    assert examined[("j2s", "ended-contracts")] >= 1
    assert examined[("j2s", "support-tickets")] >= 1
    assert examined[("nexio", "ended-surveys")] >= 2
    assert examined[("nexio", "contact-notes-of-former-customers")] >= 1
    recent = await stack.fetch(
        "sandbox_upjunoo_recordings", "SELECT 1 FROM recordings WHERE file_path LIKE 'chloe-%-recent.wav'"
    )
    assert len(recent) == 2, "a dry run deletes nothing"


async def test_an_identity_document_is_sealed_and_not_kept_past_the_decision_whatever_the_tenant(
    keepco: RunningStack,
):
    """KeepCo asks for no document and decides automatically: one sent anyway is kept sealed, and
    the ledger schedule removes it once the request is past its verification."""
    stack = keepco
    document = "SUQgY29weSBvZiBLYXRlIENsYWVz"  # base64 of "ID copy of Kate Claes"
    request = rights_request(
        "access", KATE, tenant="keepco", jurisdiction="BE", verification={"document": document}
    )
    await stack.publish(request)
    await stack.closed(request["request_id"])
    rows = await stack.fetch(
        stack.settings.pg_database,
        "SELECT * FROM identity_documents WHERE request_id = $1",
        request["request_id"],
    )
    [row] = rows  # kept until the schedule runs: sealed, never in clear
    assert row["document"] is None and document.encode() not in bytes(row["sealed"])

    async def gone() -> bool:
        await stack.client.get_schedule_handle(LEDGER_SCHEDULE_ID).trigger()
        left = await stack.fetch(
            stack.settings.pg_database,
            "SELECT 1 FROM identity_documents WHERE request_id = $1",
            request["request_id"],
        )
        return not left

    await until(gone, "the identity document purged after the verification decision")
