"""Fides data maps as-is (issue 14, item 4): the shop database described by a fideslang
Dataset file (tests/integration/packs/shop_dataset.yml, tenant ``shopfides``) gives the same
results as the pack that lists its tables (``shop``): the same rows found, exported and erased."""

from __future__ import annotations

from typing import Any

from infra.sandbox.shop import SHOP_DATABASE, seed_shop, shop_email
from tests.integration.conftest import RunningStack, rights_request

CUSTOMERS = 6
ONE_CUSTOMER = {"customer": 1, "address": 1, "orders": 3, "payment": 3, "review": 1}


async def _run(stack: RunningStack, tenant: str, request_type: str, customer: int) -> dict[str, Any]:
    request = rights_request(request_type, {"email": shop_email(customer)}, tenant=tenant, jurisdiction="BE")
    await stack.publish(request)
    view: dict[str, Any] = await stack.closed(request["request_id"])
    view["request_id"] = request["request_id"]
    return view


async def _records(stack: RunningStack, tenant: str, customer: int) -> list[dict[str, Any]]:
    view = await _run(stack, tenant, "access", customer)
    status, report = await stack.api("GET", f"/v1/requests/{view['request_id']}/report")
    assert status == 200
    records: list[dict[str, Any]] = report["systems"]["shop_db"]["records"]
    return sorted(records, key=lambda r: (r["table"], r["id"]))


async def _left(stack: RunningStack, customer: int) -> int:
    """Rows of one customer left in the shop database, read without any pack."""
    [row] = await stack.fetch(
        SHOP_DATABASE,
        """SELECT (SELECT count(*) FROM customer WHERE id = $1)
                + (SELECT count(*) FROM address WHERE customer_id = $1)
                + (SELECT count(*) FROM orders WHERE customer_id = $1)
                + (SELECT count(*) FROM payment WHERE customer_id = $1)
                + (SELECT count(*) FROM review WHERE order_id BETWEEN ($1 - 1) * 3 + 1 AND $1 * 3) AS n""",
        customer,
    )
    return int(row["n"])


async def test_the_fides_dataset_finds_and_exports_the_same_rows_as_the_pack(stack: RunningStack):
    await seed_shop(stack.settings, CUSTOMERS)
    from_pack = await _records(stack, "shop", 3)
    from_dataset = await _records(stack, "shopfides", 3)
    assert from_dataset == from_pack
    assert {t: sum(r["table"] == t for r in from_dataset) for t in ONE_CUSTOMER} == ONE_CUSTOMER
    assert [r["order_id"] for r in from_dataset if r["table"] == "review"] == [7], (
        "through the dataset's reference"
    )


async def test_the_fides_dataset_erases_the_same_rows_as_the_pack(stack: RunningStack):
    await seed_shop(stack.settings, CUSTOMERS)
    by_pack = await _run(stack, "shop", "erasure", 2)
    by_dataset = await _run(stack, "shopfides", "erasure", 5)
    [pack_system], [dataset_system] = by_pack["systems"], by_dataset["systems"]
    assert dataset_system["outcome"] == pack_system["outcome"] == "erased"
    assert (
        dataset_system["evidence"]["deleted_by_table"]
        == pack_system["evidence"]["deleted_by_table"]
        == ONE_CUSTOMER
    )
    assert await _left(stack, 2) == await _left(stack, 5) == 0, "nothing of either customer is left"
    for other in (1, 3, 4, 6):
        assert await _left(stack, other) == sum(ONE_CUSTOMER.values()), f"customer {other} is untouched"
