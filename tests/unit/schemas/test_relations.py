"""The relation graph of an SQL system's tables: walking order, cycles, missing keys."""

from __future__ import annotations

import pytest

from schemas.relations import Relation, RelationError, build_graph

SHOP = [
    {"table": "payment"},
    {"table": "review", "references": [{"column": "order_id", "to": "orders.id"}]},
    {"table": "orders"},
    {"table": "customer", "match": {"email": "email"}},
    {"table": "address"},
]
KEYS = [
    Relation("address", "customer_id", "customer", "id", "foreign key address_customer"),
    Relation("orders", "customer_id", "customer", "id", "foreign key orders_customer"),
    Relation("payment", "customer_id", "customer", "id", "foreign key payment_customer"),
    Relation("coupon", "customer_id", "customer", "id", "foreign key of a table the pack does not list"),
]
COLUMNS = {
    "customer": {"id": "bigint", "email": "text"},
    "address": {"id": "bigint", "customer_id": "bigint"},
    "orders": {"id": "bigint", "customer_id": "bigint"},
    "payment": {"id": "bigint", "customer_id": "bigint"},
    "review": {"id": "bigint", "order_id": "bigint"},
}


def test_tables_are_walked_parents_first_and_deleted_children_first():
    graph = build_graph(SHOP, KEYS, COLUMNS)
    order = list(graph.order)
    assert order[0] == "customer"
    assert order.index("orders") < order.index("review")
    assert set(order) == {"customer", "address", "orders", "payment", "review"}
    deletion = list(graph.deletion_order)
    assert deletion.index("review") < deletion.index("orders") < deletion.index("customer")
    assert deletion[-1] == "customer"


def test_each_table_is_reached_through_its_keys_and_parents_give_the_keys_children_need():
    graph = build_graph(SHOP, KEYS, COLUMNS)
    assert [str(r) for r in graph.reached_through["review"]] == [
        "review.order_id -> orders.id (pack references)"
    ]
    assert {r.parent for r in graph.reached_through["payment"]} == {"customer"}
    assert graph.reached_through["customer"] == ()
    assert graph.keys_for_children == {"customer": ("id",), "orders": ("id",)}


def test_a_pack_reference_repeating_a_foreign_key_is_one_relation():
    tables = [
        *SHOP[:2],
        {"table": "orders", "references": [{"column": "customer_id", "to": "customer.id"}]},
        *SHOP[3:],
    ]
    graph = build_graph(tables, KEYS, COLUMNS)
    assert len(graph.reached_through["orders"]) == 1


def test_a_cycle_is_a_pack_error_naming_it():
    tables = [
        {"table": "customer", "match": {"email": "email"}},
        {"table": "a", "references": [{"column": "b_id", "to": "b.id"}]},
        {"table": "b", "references": [{"column": "a_id", "to": "a.id"}]},
    ]
    with pytest.raises(RelationError, match=r"cycle: (a -> b -> a|b -> a -> b)"):
        build_graph(tables)


def test_a_table_referencing_itself_is_a_cycle():
    tables = [
        {
            "table": "person",
            "match": {"email": "email"},
            "references": [{"column": "boss", "to": "person.id"}],
        }
    ]
    with pytest.raises(RelationError, match="cycle: person -> person"):
        build_graph(tables)


def test_a_database_foreign_key_cycle_between_listed_tables_is_refused_too():
    keys = [*KEYS, Relation("customer", "last_order", "orders", "id", "foreign key customer_last_order")]
    columns = {**COLUMNS, "customer": {**COLUMNS["customer"], "last_order": "bigint"}}
    with pytest.raises(RelationError, match="cycle"):
        build_graph(SHOP, keys, columns)


@pytest.mark.parametrize(
    ("tables", "columns", "message"),
    [
        (
            [*SHOP, {"table": "loyalty", "references": [{"column": "customer_id", "to": "client.id"}]}],
            None,
            "does not list table 'client'",
        ),
        (
            SHOP,
            {k: v for k, v in COLUMNS.items() if k != "address"},
            "'address' is listed by the pack but does not exist",
        ),
        (
            [
                *SHOP[:1],
                {"table": "review", "references": [{"column": "order_no", "to": "orders.id"}]},
                *SHOP[2:],
            ],
            COLUMNS,
            "column review.order_no does not exist",
        ),
        (
            [
                *SHOP[:1],
                {"table": "review", "references": [{"column": "order_id", "to": "orders.number"}]},
                *SHOP[2:],
            ],
            COLUMNS,
            "column orders.number does not exist",
        ),
        ([*SHOP[:3], {"table": "customer", "match": {"email": "mail"}}, SHOP[4]], COLUMNS, "customer.mail"),
        (
            [*SHOP, {"table": "wishlist"}],
            {**COLUMNS, "wishlist": {"id": "bigint", "customer_id": "bigint"}},
            "'wishlist' has no 'match' and no relation leads to it",
        ),
        ([{"table": "orders"}, {"table": "payment"}], COLUMNS, "no listed table has 'match'"),
        ([*SHOP, {"table": "customer"}], COLUMNS, "listed twice"),
        ([{"table": "Customer; drop", "match": {"email": "email"}}], None, "invalid SQL identifier"),
        (
            [
                *SHOP[:1],
                {"table": "review", "references": [{"column": "order_id", "to": "orders"}]},
                *SHOP[2:],
            ],
            None,
            "must be 'table.column'",
        ),
    ],
)
def test_missing_keys_and_unreachable_tables_are_pack_errors(tables, columns, message):
    with pytest.raises(RelationError, match=message):
        build_graph(tables, KEYS, columns)


def test_a_misspelt_third_party_column_is_refused_rather_than_disclosed():
    tables = [*SHOP, {"table": "parcel", "match": {"email": "to_email"}, "third_party_columns": ["sendr"]}]
    columns = {**COLUMNS, "parcel": {"to_email": "text", "sender": "text"}}
    with pytest.raises(RelationError, match="parcel.sendr: the pack withholds a column that does not exist"):
        build_graph(tables, KEYS, columns)


def test_a_reference_between_columns_of_different_types_is_refused():
    columns = {**COLUMNS, "review": {"id": "bigint", "order_id": "text"}}
    with pytest.raises(RelationError, match="is text but the column it references is bigint"):
        build_graph(SHOP, KEYS, columns)


def test_a_parent_reached_only_from_its_child_is_unreachable():
    """Relations lead from the referenced row to the rows referencing it, never back up: a
    shared parent (an address two customers point at) is not the subject's."""
    tables = [{"table": "customer", "match": {"email": "email"}}, {"table": "address"}]
    keys = [Relation("customer", "address_id", "address", "id", "foreign key customer_address")]
    columns = {"customer": {"email": "text", "address_id": "bigint"}, "address": {"id": "bigint"}}
    with pytest.raises(RelationError, match="'address' has no 'match'"):
        build_graph(tables, keys, columns)


def test_the_pack_alone_cannot_judge_reachability_through_the_database_keys():
    assert build_graph(SHOP).order[0] == "payment"  # no keys known yet: pack order
