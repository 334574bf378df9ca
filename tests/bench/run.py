"""make bench: measure on one embedded stack, in one run, and write the figures.

(a) bare-Temporal ceiling: no-op fan-out workflows of the request's width (its pack's plan), same server;
(b) our end-to-end erasure throughput (Kafka → intake → workflow → connectors → ledger) and
    its ratio to (a);
(c) latency percentiles: publish → workflow started, publish → closed (one at a time, and in a burst);
(d) consent events per second, ingested and propagated to every system, vs raw Kafka (tests/bench/consent.py);
(e) 10,000 requests open at a partner: memory, and signed callback → closed vs a bare signal
    (tests/bench/open_requests.py);
(f) the shop database of the Fides comparison: erasure and access by e-mail, alone and in a
    burst, every row verified, vs a no-op workflow of that width and the raw SQL of the same
    statements; py-spy and pg_stat_statements of the erasure burst (tests/bench/shop.py).
Results: bench-results/bench.json and bench-results/bench.png (``--only`` writes bench-<part>.*
and merges its figures into bench.json); (f)'s profile: bench-results/profile.txt.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg

RESULTS = Path("bench-results")


_SHOWN: dict[str, int] = {}


def progress(label: str, done: int, total: int) -> None:
    tty = sys.stdout.isatty()
    tenth = max(total // 10, 1)
    if _SHOWN.get(label) == done or (
        not tty and done < total and done // tenth == _SHOWN.get(label, -1) // tenth
    ):
        return  # unchanged; and in a log, a line every tenth is enough
    _SHOWN[label] = done
    width = 30
    filled = int(width * done / max(total, 1))
    end = "" if tty and done < total else "\n"
    print(f"\r  {label:28} [{'#' * filled}{'.' * (width - filled)}] {done}/{total}", end=end, flush=True)


def percentiles(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    if not ordered:
        return {}

    def at(q: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 4)

    return {
        "p50": at(0.50),
        "p90": at(0.90),
        "p99": at(0.99),
        "max": round(ordered[-1], 4),
        "mean": round(statistics.fmean(ordered), 4),
    }


async def bare_temporal(settings: Any, workflows: int, width: int) -> dict[str, Any]:
    from temporalio.client import Client
    from temporalio.worker import Worker

    from tests.bench.noop import BenchNoopChild, BenchNoopFanout, bench_noop

    client = await Client.connect(settings.temporal_address)
    queue = f"bench-noop-{uuid.uuid4()}"
    async with Worker(
        client,
        task_queue=queue,
        workflows=[BenchNoopFanout, BenchNoopChild],
        activities=[bench_noop],
        max_concurrent_activities=50,
    ):
        started = time.perf_counter()
        handles = [
            await client.start_workflow(
                BenchNoopFanout.run, width, id=f"bench-noop-{uuid.uuid4()}", task_queue=queue
            )
            for _ in range(workflows)
        ]
        for done, finished in enumerate(asyncio.as_completed([h.result() for h in handles]), start=1):
            await finished
            progress("bare Temporal fan-out", done, workflows)
        seconds = time.perf_counter() - started
    return {
        "workflows": workflows,
        "width": width,
        "seconds": round(seconds, 3),
        "workflows_per_s": round(workflows / seconds, 2),
        "activities_per_s": round(workflows * width / seconds, 2),
    }


def upjunoo_erasure_width() -> int:
    """How many systems and recipients an UPJUNOO erasure fans out to (its pack's plan): the
    bare ceiling is measured at the same width."""
    from orchestrator.policy.packs import load_packs
    from orchestrator.policy.plan import plan_request

    return len(plan_request(load_packs()["upjunoo"], "erasure"))


async def seed_subjects(settings: Any, count: int) -> list[dict[str, str]]:
    """Bench subjects with records in the UPJUNOO CRM, support desk and marketing tool."""
    subjects = [{"email": f"bench-{i}-{uuid.uuid4().hex[:6]}@example.org"} for i in range(count)]
    for database, sql in (
        (
            "sandbox_upjunoo_crm",
            "INSERT INTO customers (customer_id, email, full_name, country) VALUES ($1, $2, 'Bench', 'CI')",
        ),
        (
            "sandbox_upjunoo_support",
            "INSERT INTO tickets (ticket_id, requester_email, subject_line, opened_at)"
            " VALUES ($1, $2, 'bench', now())",
        ),
        (
            "sandbox_upjunoo_marketing",
            "INSERT INTO contacts (contact_id, email, purposes, opted_in_at)"
            " VALUES ($1, $2, ARRAY['marketing'], now())",
        ),
    ):
        conn = await asyncpg.connect(settings.pg_dsn(database))
        try:
            await conn.executemany(sql, [(f"B-{s['email']}", s["email"]) for s in subjects])
        finally:
            await conn.close()
    return subjects


async def erasures(settings: Any, subjects: list[dict[str, str]], label: str, arrival: str) -> dict[str, Any]:
    """UPJUNOO erasures of ``subjects``, arriving ``alone`` or in a ``burst``, timed as the shop's
    are (one ledger query a poll: the bench does not load the machine it measures)."""
    from orchestrator.cli.demo import rights_request
    from tests.bench.arrivals import timed_requests

    requests = [rights_request("upjunoo", "erasure", subject, "CI") for subject in subjects]
    timed = await timed_requests(settings, requests, label, arrival, progress)
    timed.pop("ids")
    return {**timed, "systems_per_request": upjunoo_erasure_width()}


async def main(options: argparse.Namespace) -> int:
    from infra.launch import launch, shut_down
    from orchestrator.workflows.search import REGISTRATION
    from tests.bench.chart import chart, summary
    from tests.bench.consent import consent_bench
    from tests.bench.open_requests import PACKS, open_requests_bench
    from tests.bench.profile import Profiler, cpu_seconds, cpu_used
    from tests.bench.shop import API_TOKENS, shop_bench
    from tests.bench.shop import summary as shop_summary

    requests, single, only = options.requests, options.single, options.only

    print("Starting the embedded stack and our services ...")
    os.environ.setdefault("PRIVACY_SANDBOX_PARTNER_DELAY", "1")  # the slow partner: 1 s, not the demo's 20
    os.environ["PRIVACY_PACKS_DIR"] = str(PACKS)  # (e)'s tenant: erasures that wait on a partner
    os.environ.setdefault("PRIVACY_API_TOKENS", API_TOKENS)  # (f) reads what each request verified
    settings, stack = await launch(Path(tempfile.mkdtemp(prefix="privacy-bench-")), REGISTRATION)
    try:
        results: dict[str, Any] = {
            "date": datetime.now(UTC).isoformat(),
            "cpus": os.cpu_count(),
            "note": "one run on the embedded stack (Temporal dev server on SQLite, Tansu, PostgreSQL)",
        }
        parts = {"throughput", "consent", "open", "shop"} if only is None else {only}
        if "shop" in parts:  # first: before (e) leaves thousands of workflows open on the server
            results["shop"] = await shop_bench(
                settings, options.shop, options.single, progress, RESULTS / "profile.txt"
            )
        if "throughput" in parts:
            width = upjunoo_erasure_width()
            cpu_before = cpu_seconds(settings)
            results["bare_temporal"] = await bare_temporal(settings, requests, width=width)
            # The bare workers run in this process: the stack's part is the Temporal server's.
            results["bare_temporal"]["cpu_seconds"] = cpu_used(cpu_before, cpu_seconds(settings))
            subjects = await seed_subjects(settings, requests + single)
            results["end_to_end_single"] = await erasures(
                settings, subjects[:single], "erasure, one at a time", "alone"
            )
            cpu_before = cpu_seconds(settings)
            profiler = Profiler(settings, RESULTS / "profile-throughput.txt") if options.profile else None
            if profiler:
                await profiler.start()
            results["end_to_end_burst"] = await erasures(
                settings, subjects[single:], "erasure, burst", "burst"
            )
            if profiler:
                results["end_to_end_burst"]["profile"] = await profiler.stop()
            # Where the burst's CPU went, per process (the bench's own polling not included).
            burst_cpu = cpu_used(cpu_before, cpu_seconds(settings))
            results["end_to_end_burst"]["cpu_seconds"] = burst_cpu
            results["ratio_end_to_end_vs_bare"] = round(
                results["end_to_end_burst"]["requests_per_s"] / results["bare_temporal"]["workflows_per_s"], 3
            )
        if "consent" in parts:
            profile = RESULTS / "profile-consent.txt" if options.profile_consent else None
            results["consent"] = await consent_bench(settings, options.consent, progress, profile)
        if "open" in parts:
            results["open_requests"] = await open_requests_bench(
                settings, options.open, options.sample, progress
            )
        RESULTS.mkdir(exist_ok=True)
        name = "bench" if only is None else f"bench-{only}"
        (RESULTS / f"{name}.json").write_text(json.dumps(results, indent=2) + "\n")
        if only is not None:  # one part's figures replace that part's in the whole run's file
            whole = RESULTS / "bench.json"
            merged = json.loads(whole.read_text()) if whole.exists() else {}
            whole.write_text(json.dumps({**merged, **results}, indent=2) + "\n")
        chart(results, RESULTS / f"{name}.png")
        print(summary(results))
        if "shop" in results:
            print(shop_summary(results["shop"]))
        print(f"written: {RESULTS / (name + '.json')}, {RESULTS / (name + '.png')}")
        return 0
    finally:
        await shut_down(settings, stack)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="Benchmarks on the embedded stack (see module docstring).")
    parser.add_argument("--requests", type=int, default=100, help="burst size for (a) and (b)")
    parser.add_argument("--single", type=int, default=20, help="requests sent one at a time for latency")
    parser.add_argument("--consent", type=int, default=20000, help="consent withdrawals for (d)")
    parser.add_argument(
        "--profile-consent", action="store_true", help="py-spy (d) to bench-results/profile-consent.txt"
    )
    parser.add_argument("--open", type=int, default=10000, help="requests kept open at a partner for (e)")
    parser.add_argument("--sample", type=int, default=100, help="of those, how many a signed callback closes")
    parser.add_argument("--shop", type=int, default=100, help="burst size for (f), the shop database")
    parser.add_argument(
        "--profile", action="store_true", help="py-spy and pg_stat_statements of (b)'s erasure burst"
    )
    parser.add_argument(
        "--only",
        choices=["throughput", "consent", "open", "shop"],
        help="one part only: (a-c), (d), (e) or (f)",
    )
    options = parser.parse_args()
    code = asyncio.run(main(options))
    sys.stdout.flush()
    os._exit(code)
