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
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg

from tests.bench.profile import Profiler

TENANT, SYSTEM = "benchshop", "shop_db"
PACK_FILE = Path(__file__).resolve().parent / "packs" / "benchshop.json"
CUSTOMERS = 1000
ROWS = {"customer": 1, "address": 1, "orders": 3, "payment": 3}  # of each customer
FIDES = {"requests_per_s": 0.92, "single_erasure_s": 1.36}
TARGET = {"requests_per_s": 9.2, "single_erasure_p50_s": 0.5, "fairness": 0.25}
API_TOKEN = "bench-token-for-the-dpo-role"
API_TOKENS = f"{API_TOKEN}:dpo@bench:dpo"  # PRIVACY_API_TOKENS of the bench's API

Progress = Callable[[str, int, int], None]


async def shop_bench(
    settings: Any, burst: int, single: int, progress: Progress, profile: Path
) -> dict[str, Any]:
    from infra.sandbox.shop import seed_shop, shop_email
    from tests.bench.run import bare_temporal

    if single + burst > CUSTOMERS - 100:
        raise ValueError(f"at most {CUSTOMERS - 100} customers between the single runs and the burst")
    alone = [shop_email(n) for n in range(1, single + 1)]
    crowd = [shop_email(n) for n in range(101, 101 + burst)]
    await seed_shop(settings, CUSTOMERS)
    raw = await raw_sql(settings, crowd)
    await seed_shop(settings, CUSTOMERS)  # the replay erased the crowd
    results: dict[str, Any] = {"customers": CUSTOMERS, "rows_per_customer": ROWS, "fides": FIDES,
                               "target": TARGET, "raw_sql": raw}  # fmt: skip
    results["bare_temporal"] = await bare_temporal(settings, burst, width=1)
    results["bare_temporal"]["alone_s"] = await bare_alone(settings, single)
    for kind in ("access", "erasure"):
        single_run = await requests(settings, kind, alone, f"shop {kind}, one at a time", True, progress)
        profiler = Profiler(settings, profile) if kind == "erasure" else None
        if profiler:
            await profiler.start()
        burst_run = await requests(settings, kind, crowd, f"shop {kind}, burst", False, progress)
        if profiler:
            results["profile"] = await profiler.stop()
        checked = await (verify_erased(settings, burst_run.pop("ids"), alone + crowd) if kind == "erasure"
                         else verify_exported(settings, burst_run.pop("ids"), crowd))  # fmt: skip
        single_run.pop("ids")
        seconds = burst_run["seconds"]
        results[kind] = {
            "single": single_run,
            "burst": burst_run,
            "verified": checked,
            "fairness_p50_closed_over_wall": round(burst_run["publish_to_closed_s"]["p50"] / seconds, 3),
            "ratio_to_bare_temporal": round(
                burst_run["requests_per_s"] / results["bare_temporal"]["workflows_per_s"], 3
            ),
            "ratio_to_raw_sql": round(burst_run["requests_per_s"] / raw[kind]["requests_per_s"], 4),
            "ratio_to_fides": round(burst_run["requests_per_s"] / FIDES["requests_per_s"], 2),
        }
    return results


async def requests(
    settings: Any, kind: str, emails: list[str], label: str, one_at_a_time: bool, progress: Progress
) -> dict[str, Any]:
    """Publish one request per e-mail (together, or each after the previous closed) and time them."""
    from orchestrator.cli.demo import publish, rights_request
    from orchestrator.workflows.models import request_workflow_id
    from tests.bench.run import percentiles
    from workers.runtime.temporal_client import connect

    sent = [rights_request(TENANT, kind, {"email": email}, "BE") for email in emails]
    published: dict[str, float] = {}
    closed: dict[str, float] = {}
    # One query a poll for every open request, not the API's view of each: the bench must not
    # load the machine it measures (closed_at is the ledger's own time of closing).
    ledger = await asyncpg.connect(settings.pg_dsn())

    async def wait_for(ids: list[str]) -> None:
        while any(i not in closed for i in ids):
            rows = await ledger.fetch(
                "SELECT request_id::text AS id, status, closed_at FROM requests"
                " WHERE request_id = ANY($1::uuid[]) AND closed_at IS NOT NULL",
                [i for i in ids if i not in closed],
            )
            for row in rows:
                if row["status"] != "completed":
                    raise AssertionError(f"shop {kind} {row['id']} closed {row['status']}")
                closed[row["id"]] = row["closed_at"].timestamp()
            if rows:
                progress(label, len(closed), len(sent))
            await asyncio.sleep(0.05)

    begin = time.perf_counter()
    try:
        if one_at_a_time:
            for request in sent:
                published[request["request_id"]] = time.time()
                await publish(settings, [request])
                await wait_for([request["request_id"]])
        else:
            stamp = time.time()
            await publish(settings, list(sent))
            published = dict.fromkeys((r["request_id"] for r in sent), stamp)
            await wait_for(list(published))
    finally:
        await ledger.close()
    seconds = time.perf_counter() - begin
    client = await connect(settings)
    started = {}
    for request_id in published:  # the intake's part: publish → workflow started
        description = await client.get_workflow_handle(request_workflow_id(request_id)).describe()
        started[request_id] = description.start_time.timestamp() - published[request_id]
    return {
        "requests": len(sent),
        "publish_to_workflow_started_s": percentiles(list(started.values())),
        "seconds": round(seconds, 3),
        "requests_per_s": round(len(sent) / seconds, 2),
        "publish_to_closed_s": percentiles([closed[i] - published[i] for i in published]),
        "ids": list(published),
    }


async def bare_alone(settings: Any, count: int) -> dict[str, float]:
    """A width-1 no-op fan-out started and awaited alone, ``count`` times: Temporal's own latency."""
    from temporalio.client import Client
    from temporalio.worker import Worker

    from tests.bench.noop import BenchNoopChild, BenchNoopFanout, bench_noop
    from tests.bench.run import percentiles

    client = await Client.connect(settings.temporal_address)
    queue = f"bench-noop-{uuid.uuid4()}"
    took = []
    async with Worker(client, task_queue=queue, workflows=[BenchNoopFanout, BenchNoopChild],
                      activities=[bench_noop]):  # fmt: skip
        for _ in range(count):
            begin = time.perf_counter()
            await client.execute_workflow(
                BenchNoopFanout.run, 1, id=f"bench-noop-{uuid.uuid4()}", task_queue=queue
            )
            took.append(time.perf_counter() - begin)
    return percentiles(took)


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
            (f"{kind} fairness: p50 closed / burst wall time", "≤ 0.25",
             f"{part['fairness_p50_closed_over_wall']}"),
            (f"{kind} alone, p50 publish→workflow started s", "",
             f"{part['single']['publish_to_workflow_started_s']['p50']}"),
            (f"{kind} ratio to bare Temporal (width 1)", "", f"{part['ratio_to_bare_temporal']}"),
            (f"{kind} ratio to raw SQL of the same statements", "", f"{part['ratio_to_raw_sql']}"),
            (f"{kind} raw SQL, ms per request", "", f"{results['raw_sql'][kind]['ms_per_request']}"),
        ]  # fmt: skip
    rows += [
        ("erasure ratio to Fides (0.92 requests/s)", "≥ 10", f"{results['erasure']['ratio_to_fides']}"),
        ("bare Temporal, width-1 workflows/s", "", f"{results['bare_temporal']['workflows_per_s']}"),
        ("bare Temporal, width-1 alone, p50 s", "", f"{results['bare_temporal']['alone_s']['p50']}"),
    ]
    width = max(len(r[0]) for r in rows)
    return "\n".join(f"  {a:{width}}  {b:>7}  {c:>9}" for a, b, c in rows)
