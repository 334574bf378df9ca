"""Bench (f): the shop database of the Fides comparison (issue 13), erased and exported by e-mail.

1,000 customers (``infra/sandbox/shop.py``); only ``customer`` holds the e-mail, ``address``,
``orders`` and ``payment`` reference ``customer.id`` (1, 3 and 3 rows each). The bench tenant's
pack (``tests/bench/packs/benchshop.json``) names the tables; relations are found through keys.

Measured in one run, on one server: an erasure alone (p50 publish → closed), a burst of erasures
(requests/s, fairness = p50 publish → closed as a fraction of the burst's wall time), the same for
access; every erasure verified (the API's ``verification.remaining`` is 0 for the system and the
database holds none of the erased customers' rows, every other customer untouched), every access
complete. Ceilings of the same shape: a no-op fan-out of width 1 on the same Temporal server, and
the raw SQL of the very statements the connector ran (recorded by asyncpg's query logger, then
replayed on one bare connection). Fides 2.78.2, same machine kind: 0.92 requests/s, 1.36 s alone.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg

from tests.bench.arrivals import Progress, timed_requests
from tests.bench.profile import Profiler

TENANT, SYSTEM = "benchshop", "shop_db"
PACK_FILE = Path(__file__).resolve().parent / "packs" / "benchshop.json"
CUSTOMERS = 1000
ROWS = {"customer": 1, "address": 1, "orders": 3, "payment": 3}  # of each customer
FIDES = {"requests_per_s": 0.92, "single_erasure_s": 1.36}
TARGET = {"requests_per_s": 9.2, "single_erasure_p50_s": 0.5, "fairness": 0.25}
API_TOKEN = "bench-token-for-the-dpo-role"
API_TOKENS = f"{API_TOKEN}:dpo@bench:dpo"  # PRIVACY_API_TOKENS of the bench's API


async def shop_bench(
    settings: Any, burst: int, single: int, progress: Progress, profile: Path
) -> dict[str, Any]:
    from infra.sandbox.shop import seed_shop, shop_email
    from orchestrator.cli.demo import rights_request
    from tests.bench.noop import BenchNoopDirect, BenchNoopFanout
    from tests.bench.run import bare_temporal

    if single + 2 * burst > CUSTOMERS - 100:
        raise ValueError(f"at most {CUSTOMERS - 100} customers between the single runs and two bursts")
    alone = [shop_email(n) for n in range(1, single + 1)]
    crowd = [shop_email(n) for n in range(101, 101 + burst)]
    spread = [shop_email(n) for n in range(101 + burst, 101 + 2 * burst)]  # a second crowd, erased too
    await seed_shop(settings, CUSTOMERS)
    raw = await raw_sql(settings, crowd)
    await seed_shop(settings, CUSTOMERS)  # the replay erased the crowd
    results: dict[str, Any] = {"customers": CUSTOMERS, "rows_per_customer": ROWS, "fides": FIDES,
                               "target": TARGET, "raw_sql": raw}  # fmt: skip
    # Two bare shapes of width 1: a child workflow per system (how every system was reached before
    # issue 13, and still is where a system answers later), and the system's activity run by the
    # workflow itself (how a system answering in the call is reached now).
    results["bare_temporal"] = await bare_temporal(settings, burst, width=1)
    results["bare_temporal"]["alone_s"] = await bare_alone(settings, single, BenchNoopFanout)
    results["bare_temporal_direct"] = await bare_direct(settings, burst)
    results["bare_temporal_direct"]["alone_s"] = await bare_alone(settings, single, BenchNoopDirect)

    def sent(kind: str, emails: list[str]) -> list[dict[str, Any]]:
        return [rights_request(TENANT, kind, {"email": email}, "BE") for email in emails]

    for kind in ("access", "erasure"):
        single_run = await timed_requests(settings, sent(kind, alone), f"shop {kind}, one at a time",
                                          "alone", progress)  # fmt: skip
        profiler = Profiler(settings, profile) if kind == "erasure" else None
        if profiler:
            await profiler.start()
        label = f"shop {kind}, burst"
        burst_run = await timed_requests(settings, sent(kind, crowd), label, "burst", progress)
        if profiler:
            results["profile"] = await profiler.stop()
        ids = burst_run.pop("ids")
        single_run.pop("ids")
        results[kind] = {
            "single": single_run,
            "burst": burst_run,
            "fairness_p50_closed_over_wall": burst_run["fairness_p50_closed_over_wall"],
            "ratio_to_bare_temporal": round(
                burst_run["requests_per_s"] / results["bare_temporal"]["workflows_per_s"], 3
            ),
            "ratio_to_bare_temporal_direct": round(
                burst_run["requests_per_s"] / results["bare_temporal_direct"]["workflows_per_s"], 3
            ),
            "ratio_to_raw_sql": round(burst_run["requests_per_s"] / raw[kind]["requests_per_s"], 4),
            "ratio_to_fides": round(burst_run["requests_per_s"] / FIDES["requests_per_s"], 2),
        }
        if kind == "erasure":
            # The same number again, arriving over the burst at 1.1 x the rate just measured: the
            # fairness target's burst (see tests/bench/arrivals.py for why both are reported).
            rate = 1.1 * burst_run["requests_per_s"]
            spread_run = await timed_requests(settings, sent(kind, spread), f"shop {kind}, spread burst",
                                              "spread", progress, rate)  # fmt: skip
            ids += spread_run.pop("ids")
            results[kind]["spread_burst"] = spread_run
            results[kind]["verified"] = await verify_erased(settings, ids, alone + crowd + spread)
        else:
            results[kind]["verified"] = await verify_exported(settings, ids, crowd)
    return results


async def bare_alone(settings: Any, count: int, shape: Any) -> dict[str, float]:
    """A width-1 no-op workflow of ``shape`` started and awaited alone, ``count`` times: Temporal's
    own latency."""
    from temporalio.client import Client
    from temporalio.worker import Worker

    from tests.bench.noop import BenchNoopChild, BenchNoopDirect, BenchNoopFanout, bench_noop
    from tests.bench.run import percentiles

    client = await Client.connect(settings.temporal_address)
    queue = f"bench-noop-{uuid.uuid4()}"
    took = []
    async with Worker(client, task_queue=queue, workflows=[BenchNoopFanout, BenchNoopChild, BenchNoopDirect],
                      activities=[bench_noop]):  # fmt: skip
        for _ in range(count):
            begin = time.perf_counter()
            await client.execute_workflow(shape.run, 1, id=f"bench-noop-{uuid.uuid4()}", task_queue=queue)
            took.append(time.perf_counter() - begin)
    return percentiles(took)


async def bare_direct(settings: Any, workflows: int) -> dict[str, Any]:
    """``workflows`` width-1 no-op workflows of the direct shape (no child) started at once, on a
    worker tuned as ``bare_temporal``'s: the ceiling of a request whose system answers in the call."""
    from temporalio.client import Client
    from temporalio.worker import Worker

    from tests.bench.noop import BenchNoopDirect, bench_noop

    client = await Client.connect(settings.temporal_address)
    queue = f"bench-noop-{uuid.uuid4()}"
    async with Worker(client, task_queue=queue, workflows=[BenchNoopDirect], activities=[bench_noop],
                      max_concurrent_activities=50):  # fmt: skip
        begin = time.perf_counter()
        handles = [
            await client.start_workflow(
                BenchNoopDirect.run, 1, id=f"bench-noop-{uuid.uuid4()}", task_queue=queue
            )
            for _ in range(workflows)
        ]
        await asyncio.gather(*(handle.result() for handle in handles))
        seconds = time.perf_counter() - begin
    return {"workflows": workflows, "width": 1, "seconds": round(seconds, 3),
            "workflows_per_s": round(workflows / seconds, 2)}  # fmt: skip


async def _api(settings: Any, http: aiohttp.ClientSession, path: str) -> dict[str, Any]:
    async with http.get(settings.api_url + path, headers={"Authorization": f"Bearer {API_TOKEN}"}) as answer:
        if answer.status != 200:
            raise AssertionError(f"GET {path}: HTTP {answer.status}")
        body: dict[str, Any] = await answer.json()
        return body


async def verify_erased(settings: Any, ids: list[str], erased: list[str]) -> dict[str, Any]:
    """Every request: the system verified with nothing remaining; the database: none of the erased
    customers' rows anywhere, every other customer's rows all there."""
    from infra.sandbox.shop import SHOP_DATABASE

    async with aiohttp.ClientSession() as http:
        for request_id in ids:
            view = await _api(settings, http, f"/v1/requests/{request_id}")
            [part] = [p for p in view["systems"] if p["system"] == SYSTEM]
            if part["outcome"] != "erased" or (part.get("verification") or {}).get("remaining") != 0:
                raise AssertionError(f"erasure {request_id} not verified: {part}")
    numbers = [int(e.split("-")[2].split("@")[0]) for e in erased]
    conn = await asyncpg.connect(settings.pg_dsn(SHOP_DATABASE))
    try:
        for table, per_customer in ROWS.items():
            key = "id" if table == "customer" else "customer_id"
            left = await conn.fetchval(f"SELECT count(*) FROM {table} WHERE {key} = ANY($1)", numbers)
            others = await conn.fetchval(f"SELECT count(*) FROM {table} WHERE NOT {key} = ANY($1)", numbers)
            if left or others != (CUSTOMERS - len(numbers)) * per_customer:
                raise AssertionError(f"{table}: {left} erased customers' rows left, {others} others' rows")
    finally:
        await conn.close()
    return {"requests_verified_remaining_0": len(ids), "customers_erased_checked": len(numbers),
            "others_untouched": CUSTOMERS - len(numbers)}  # fmt: skip


async def verify_exported(settings: Any, ids: list[str], emails: list[str]) -> dict[str, Any]:
    """Every access report holds the customer's rows of every table, and no one else's."""
    async with aiohttp.ClientSession() as http:
        for request_id in ids:
            report = await _api(settings, http, f"/v1/requests/{request_id}/report")
            records = report["systems"][SYSTEM]["records"]
            counts = {table: sum(r["table"] == table for r in records) for table in ROWS}
            customer = [r for r in records if r["table"] == "customer"]
            if counts != ROWS or customer[0]["email"] not in emails:
                raise AssertionError(f"access {request_id}: incomplete report {counts}")
    return {"reports_complete": len(ids)}


class _Recording:
    """A pool source for the connector that records every statement it runs, with its arguments."""

    def __init__(self, settings: Any) -> None:
        self._settings = settings
        self._pools: dict[str, asyncpg.Pool] = {}
        self.statements: list[tuple[str, tuple[Any, ...]]] = []
        self.on = False

    def _log(self, record: Any) -> None:
        if self.on and "pg_advisory_unlock_all" not in record.query:
            self.statements.append((record.query, tuple(record.args or ())))

    async def _watch(self, conn: asyncpg.Connection) -> None:
        conn.add_query_logger(self._log)

    async def get(self, database: str) -> asyncpg.Pool:
        if database not in self._pools:
            self._pools[database] = await asyncpg.create_pool(
                self._settings.pg_dsn(database), min_size=1, max_size=1, init=self._watch
            )
        return self._pools[database]

    async def close(self) -> None:
        for pool in self._pools.values():
            await pool.close()


async def raw_sql(settings: Any, emails: list[str]) -> dict[str, Any]:
    """The connector's statements for each customer (identity resolution, count, act, look again),
    recorded, then replayed on one bare asyncpg connection: the SQL floor of the same work."""
    from infra.sandbox.shop import SHOP_DATABASE, seed_shop, shop_email
    from orchestrator.policy.packs import load_pack_file
    from orchestrator.policy.plan import plan_request
    from workers.connectors.sql import SqlConnector
    from workers.messages.requests import SystemTaskInput

    pack = load_pack_file(PACK_FILE)
    recorded: dict[str, list[list[tuple[str, tuple[Any, ...]]]]] = {}
    for kind in ("access", "erasure"):
        step = next(s for s in plan_request(pack, kind) if s.system == SYSTEM)
        source = _Recording(settings)
        connector = SqlConnector(source)  # type: ignore[arg-type]
        recorded[kind] = []
        for email in [shop_email(CUSTOMERS), *emails]:  # the first warms the schema cache, unrecorded
            task = SystemTaskInput(str(uuid.uuid4()), TENANT, kind, {"email": email},
                                   datetime.now(UTC).isoformat(), step)  # fmt: skip
            source.on, source.statements = email != shop_email(CUSTOMERS), []
            await connector.linked_identities(task)
            if kind == "erasure":
                await connector.locate(task)
                await connector.erase(task)
                await connector.remaining(task)
            else:
                await connector.export(task)
            if source.on:
                recorded[kind].append(source.statements)
        await source.close()
    await seed_shop(settings, CUSTOMERS)
    figures: dict[str, Any] = {}
    conn = await asyncpg.connect(settings.pg_dsn(SHOP_DATABASE))
    try:
        for kind in ("access", "erasure"):
            begin = time.perf_counter()
            for statements in recorded[kind]:
                for query, args in statements:
                    await (conn.fetch(query, *args) if args else conn.execute(query))
            seconds = time.perf_counter() - begin
            figures[kind] = {
                "customers": len(emails),
                "statements_per_request": round(sum(map(len, recorded[kind])) / len(emails), 1),
                "seconds": round(seconds, 4),
                "ms_per_request": round(1000 * seconds / len(emails), 3),
                "requests_per_s": round(len(emails) / seconds, 1),
                "note": "one bare connection, one customer after another, same statements and arguments",
            }
    finally:
        await conn.close()
    return figures


def summary(results: dict[str, Any]) -> str:
    """The table of (f): target, figure, ceilings and ratios."""
    rows = [("(f) shop database, 1,000 customers", "target", "figure")]
    for kind in ("erasure", "access"):
        part = results[kind]
        rows += [
            (f"{kind} burst of {part['burst']['requests']}, requests/s",
             "≥ 9.2" if kind == "erasure" else "", f"{part['burst']['requests_per_s']}"),
            (f"{kind} alone, p50 publish→closed s",
             "≤ 0.5" if kind == "erasure" else "", f"{part['single']['publish_to_closed_s']['p50']}"),
            (f"{kind} fairness, all at one instant (floor 0.5)", "",
             f"{part['fairness_p50_closed_over_wall']}"),
            (f"{kind} closing order vs arrival (Kendall tau)", "",
             f"{part['burst']['closing_order_vs_arrival']}"),
            (f"{kind} alone, p50 publish→workflow started s", "",
             f"{part['single']['publish_to_workflow_started_s']['p50']}"),
            (f"{kind} ratio to bare Temporal, child shape", "", f"{part['ratio_to_bare_temporal']}"),
            (f"{kind} ratio to bare Temporal, direct shape", "", f"{part['ratio_to_bare_temporal_direct']}"),
            (f"{kind} ratio to raw SQL of the same statements", "", f"{part['ratio_to_raw_sql']}"),
            (f"{kind} raw SQL, ms per request", "", f"{results['raw_sql'][kind]['ms_per_request']}"),
        ]  # fmt: skip
    spread = results["erasure"]["spread_burst"]
    child, direct = results["bare_temporal"], results["bare_temporal_direct"]
    rows += [
        (f"erasure fairness, spread at {spread['published_per_s']}/s", "≤ 0.25",
         f"{spread['fairness_p50_closed_over_wall']}"),
        ("erasure spread: requests/s, order (tau)", "",
         f"{spread['requests_per_s']}, {spread['closing_order_vs_arrival']}"),
        ("erasure ratio to Fides (0.92 requests/s)", "≥ 10", f"{results['erasure']['ratio_to_fides']}"),
        ("bare Temporal, width-1 child shape/s", "", f"{child['workflows_per_s']}"),
        ("bare Temporal, width-1 direct shape/s", "", f"{direct['workflows_per_s']}"),
        ("bare Temporal alone p50 s, child / direct", "",
         f"{child['alone_s']['p50']} / {direct['alone_s']['p50']}"),
    ]  # fmt: skip
    width = max(len(r[0]) for r in rows)
    return "\n".join(f"  {a:{width}}  {b:>7}  {c:>9}" for a, b, c in rows)
