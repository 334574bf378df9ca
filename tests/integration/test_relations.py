"""Complete and exact: every related row of the person is found, exported and erased, and only
theirs (issue 10, items 2 and 3). The databases are checked directly, as an auditor would."""

from __future__ import annotations

import json
from typing import Any

import pytest

from infra.sandbox.shop import SHOP_DATABASE, seed_shop, shop_email
from orchestrator.policy.packs import load_pack_file, load_packs
from orchestrator.policy.plan import plan_request
from tests.integration.conftest import ADA, TEST_PACKS, RunningStack, rights_request
from workers.connectors.base import ConnectorError
from workers.connectors.pools import DatabasePools
from workers.connectors.sql import SqlConnector
from workers.messages.requests import SystemStep, SystemTaskInput

CUSTOMERS = 6
SUBJECT = 3  # shop customer 3: orders 7, 8, 9; review of order 7
YOUSSEF = ("Youssef", "youssef@example.org", "+212600000002", "Tanger", "C-JMP-002")


async def _shop_rows(stack: RunningStack, customer: int) -> dict[str, int]:
    """What the shop database holds of one customer, table by table, read without the pack."""
    counts = {}
    for table, sql in (
        ("customer", "SELECT count(*) AS n FROM customer WHERE id = $1"),
        ("address", "SELECT count(*) AS n FROM address WHERE customer_id = $1"),
        ("orders", "SELECT count(*) AS n FROM orders WHERE customer_id = $1"),
        ("payment", "SELECT count(*) AS n FROM payment WHERE customer_id = $1"),
        ("review", "SELECT count(*) AS n FROM review WHERE order_id BETWEEN ($1 - 1) * 3 + 1 AND $1 * 3"),
    ):
        [row] = await stack.fetch(SHOP_DATABASE, sql, customer)
        counts[table] = row["n"]
    return counts


ONE_CUSTOMER = {"customer": 1, "address": 1, "orders": 3, "payment": 3, "review": 1}
NOTHING = dict.fromkeys(ONE_CUSTOMER, 0)


def _task(step: SystemStep, subject: dict[str, str], request_type: str = "erasure") -> SystemTaskInput:
    return SystemTaskInput("00000000-0000-4000-8000-000000000010", "test", request_type, subject,
                           "2026-11-23T10:00:00+00:00", step)  # fmt: skip


def _step(tenant_pack: Any, system: str, request_type: str) -> SystemStep:
    return next(s for s in plan_request(tenant_pack, request_type) if s.system == system)


@pytest.fixture
async def connector(stack: RunningStack):
    pools = DatabasePools(stack.settings.pg_dsn)
    yield SqlConnector(pools)
    await pools.close()


async def test_a_shop_customer_is_erased_from_the_email_alone_with_every_related_row(stack: RunningStack):
    await seed_shop(stack.settings, CUSTOMERS)
    request = rights_request("erasure", {"email": shop_email(SUBJECT)}, tenant="shop", jurisdiction="BE")
    await stack.publish(request)
    view = await stack.closed(request["request_id"])
    [system] = view["systems"]
    assert (system["system"], system["outcome"]) == ("shop_db", "erased")
    assert system["evidence"]["deleted_by_table"] == ONE_CUSTOMER
    assert await _shop_rows(stack, SUBJECT) == NOTHING, "no row of the customer is left in any table"
    for other in set(range(1, CUSTOMERS + 1)) - {SUBJECT}:
        assert await _shop_rows(stack, other) == ONE_CUSTOMER, f"customer {other} is untouched"


async def test_a_shop_customer_gets_every_related_row_and_no_one_elses(stack: RunningStack):
    await seed_shop(stack.settings, CUSTOMERS)
    request = rights_request("access", {"email": shop_email(SUBJECT)}, tenant="shop", jurisdiction="BE")
    await stack.publish(request)
    await stack.closed(request["request_id"])
    status, report = await stack.api("GET", f"/v1/requests/{request['request_id']}/report")
    assert status == 200
    records = report["systems"]["shop_db"]["records"]
    by_table: dict[str, list[dict[str, Any]]] = {}
    for record in records:
        by_table.setdefault(record["table"], []).append(record)
    assert {t: len(rows) for t, rows in by_table.items()} == ONE_CUSTOMER
    assert [r["email"] for r in by_table["customer"]] == [shop_email(SUBJECT)]
    assert {r["customer_id"] for t in ("address", "orders", "payment") for r in by_table[t]} == {SUBJECT}
    assert [r["order_id"] for r in by_table["review"]] == [7], "reached through the pack's references"


async def test_portability_exports_the_related_rows_with_the_rules_columns(stack: RunningStack):
    await seed_shop(stack.settings, CUSTOMERS)
    request = rights_request("portability", {"email": shop_email(SUBJECT)}, tenant="shop", jurisdiction="BE")
    await stack.publish(request)
    await stack.closed(request["request_id"])
    _, report = await stack.api("GET", f"/v1/requests/{request['request_id']}/report")
    tables = {r["table"]: set(r) - {"table"} for r in report["systems"]["shop_db"]["records"]}
    assert tables == {
        "customer": {"email", "name", "phone"},
        "address": {"street", "city", "postcode"},
        "review": {"rating", "body"},
    }


async def test_locate_counts_every_related_row_and_finds_nothing_after_the_erasure(stack, connector):
    await seed_shop(stack.settings, CUSTOMERS)
    shop = load_pack_file(TEST_PACKS / "shop.json")
    task = _task(_step(shop, "shop_db", "erasure"), {"email": shop_email(SUBJECT)})
    assert await connector.locate(task) == sum(ONE_CUSTOMER.values())
    assert (await connector.erase(task)).outcome == "erased"
    assert await connector.locate(task) == 0
    assert (await connector.erase(task)).outcome == "not_found", "erasing twice changes nothing"


async def test_anonymising_follows_the_relations_and_applies_the_rules_columns_in_every_table(
    stack, connector
):
    await seed_shop(stack.settings, CUSTOMERS)
    step = _step(load_pack_file(TEST_PACKS / "shop.json"), "shop_db", "erasure")
    personal = ["email", "name", "phone", "street", "shipping_name", "card_holder", "reviewer_name", "body"]
    rule = {"action": "anonymise", "anonymise_columns": personal, "citation": "test"}
    task = _task(SystemStep(step.system, "anonymise", step.connector, rule), {"email": shop_email(SUBJECT)})
    done = await connector.perform(task)
    assert (done.outcome, done.evidence["anonymised_by_table"]) == ("anonymised", ONE_CUSTOMER)
    assert await _shop_rows(stack, SUBJECT) == ONE_CUSTOMER, "rows kept, their personal columns cleared"
    left = await stack.fetch(
        SHOP_DATABASE,
        "SELECT DISTINCT c.name, a.street, o.shipping_name, p.card_holder, r.reviewer_name FROM customer c"
        " JOIN address a ON a.customer_id = c.id JOIN orders o ON o.customer_id = c.id"
        " JOIN payment p ON p.customer_id = c.id JOIN review r ON r.order_id = o.id WHERE c.id = $1",
        SUBJECT,
    )
    assert left == [dict.fromkeys(("name", "street", "shipping_name", "card_holder", "reviewer_name"))]
    assert await connector.locate(task) == 0
    [other] = await stack.fetch(SHOP_DATABASE, "SELECT email, name FROM customer WHERE id = 1")
    assert other == {"email": shop_email(1), "name": "Customer 1"}


async def test_a_pack_that_does_not_fit_the_database_is_a_clear_error_before_any_row_is_touched(
    stack, connector
):
    await seed_shop(stack.settings, CUSTOMERS)
    shop = load_pack_file(TEST_PACKS / "shop.json")
    step = _step(shop, "shop_db", "erasure")
    missing = [*step.connector["tables"], {"table": "wishlist"}]
    bad = SystemStep(step.system, step.action, {**step.connector, "tables": missing}, step.rule)
    with pytest.raises(ConnectorError, match="'wishlist' is listed by the pack but does not exist") as error:
        await connector.erase(_task(bad, {"email": shop_email(SUBJECT)}))
    assert not error.value.retryable
    # A table the pack forgets still points at the customer: the database refuses, nothing is erased.
    forgotten = [t for t in step.connector["tables"] if t["table"] != "payment"]
    partial = SystemStep(step.system, step.action, {**step.connector, "tables": forgotten}, step.rule)
    with pytest.raises(ConnectorError, match="payment.*list that table") as error:
        await connector.erase(_task(partial, {"email": shop_email(SUBJECT)}))
    assert not error.value.retryable
    assert await _shop_rows(stack, SUBJECT) == ONE_CUSTOMER, "one transaction: all or nothing"


async def test_bruno_erased_by_email_alone_leaves_no_address_in_the_upjunoo_crm(stack: RunningStack):
    await stack.reseed()
    bruno = "SELECT count(*) AS n FROM addresses WHERE customer_id = 'C-BRU-002'"
    assert (await stack.fetch("sandbox_upjunoo_crm", bruno))[0]["n"] == 1
    request = rights_request("erasure", {"email": "bruno@example.org"}, jurisdiction="CD")
    await stack.publish(request)
    view = await stack.closed(request["request_id"], timeout=180)
    crm = next(s for s in view["systems"] if s["system"] == "crm")
    assert crm["outcome"] == "erased"
    assert crm["evidence"]["deleted_by_table"] == {"addresses": 1, "customers": 1}
    assert (await stack.fetch("sandbox_upjunoo_crm", bruno))[0]["n"] == 0, "reached through the foreign key"
    others = "SELECT count(*) AS n FROM addresses WHERE customer_id IN ('C-ADA-001', 'C-CHL-003')"
    assert (await stack.fetch("sandbox_upjunoo_crm", others))[0]["n"] == 3


async def test_adas_jump_access_report_holds_none_of_youssefs_data(stack: RunningStack):
    await stack.reseed()
    request = rights_request("access", tenant="jump", jurisdiction="BE")
    await stack.publish(request)
    await stack.closed(request["request_id"])
    status, report = await stack.api("GET", f"/v1/requests/{request['request_id']}/report")
    assert status == 200
    text = json.dumps(report, ensure_ascii=False)
    assert not [value for value in YOUSSEF if value in text], "another person's data in Ada's report"
    shipments = {r["shipment_id"]: r for r in report["systems"]["deliveries"]["records"]}
    assert set(shipments) == {"JMP-S-1", "JMP-S-2"}, "the parcel she received and the one she sent"
    assert shipments["JMP-S-1"]["recipient_email"] == ADA["email"]
    assert shipments["JMP-S-1"]["withheld_columns"] == ["sender_customer_id"]
    assert shipments["JMP-S-2"]["sender_customer_id"] == ADA["customer_id"]
    assert set(shipments["JMP-S-2"]["withheld_columns"]) == {
        "recipient_name", "recipient_phone", "recipient_email", "address"
    }  # fmt: skip


async def test_a_shipment_ada_only_sent_loses_her_part_and_keeps_the_recipients(stack, connector):
    """Without an open claim about it, erasing Ada clears the sender of the parcel she sent to
    Youssef and leaves his name, phone and address alone (they are his, not hers)."""
    await stack.reseed()
    conn = await stack.db("sandbox_jump_claims")
    try:
        await conn.execute("UPDATE claims SET status = 'settled' WHERE claim_id = 'JMP-C-1'")
    finally:
        await conn.close()
    try:
        step = _step(load_packs()["jump"], "deliveries", "erasure")
        done = await connector.perform(_task(step, ADA))
        assert done.outcome == "anonymised"
        [sent] = await stack.fetch(
            "sandbox_jump_deliveries", "SELECT * FROM shipments WHERE shipment_id = 'JMP-S-2'"
        )
        assert sent["sender_customer_id"] == "anonymised"
        assert (sent["recipient_name"], sent["recipient_email"]) == ("Youssef Alami", "youssef@example.org")
        assert await connector.locate(_task(step, ADA)) == 0
    finally:
        await stack.reseed()
