"""The walk from the identity rows to the related rows: one look-up per table, never per row."""

from __future__ import annotations

from typing import Any

from schemas.relations import Relation, build_graph
from workers.connectors.sql_rows import Selection, in_deletion_order, redacted, select_rows

TABLES = [
    {"table": "customer", "match": {"email": "email"}},
    {"table": "orders"},
    {"table": "review", "references": [{"column": "order_id", "to": "orders.id"}]},
    {
        "table": "parcel",
        "match": {"email": "recipient_email"},
        "third_party_columns": ["sender_id"],
        "counterparty": {"match": {"customer_id": "sender_id"}, "third_party_columns": ["recipient_email"]},
    },
]
KEYS = [Relation("orders", "customer_id", "customer", "id", "foreign key orders_customer")]


class RecordingConnection:
    """Answers key look-ups with fixed rows and records every statement sent."""

    def __init__(self, rows: dict[str, list[dict[str, Any]]]) -> None:
        self.rows = rows
        self.statements: list[tuple[str, tuple[Any, ...]]] = []

    async def fetch(self, statement: str, *params: Any) -> list[dict[str, Any]]:
        self.statements.append((statement, params))
        table = statement.split(" FROM ")[1].split()[0].strip('"')
        return self.rows.get(table, [])


async def test_children_are_found_by_their_parents_keys_in_one_statement_per_parent_table():
    graph = build_graph(TABLES, KEYS)
    conn: Any = RecordingConnection({"customer": [{"id": 3}], "orders": [{"id": 7}, {"id": 8}, {"id": 9}]})
    selections = await select_rows(conn, graph, TABLES, {"email": "Ada@Example.org", "customer_id": "C-1"})
    # Only tables whose children need their keys are read, each once, whatever the number of rows.
    assert [s.split(" FROM ")[1].split()[0] for s, _ in conn.statements] == ['"customer"', '"orders"']
    by_table = {(s.name, s.counterparty): s for s in selections}
    orders = by_table[("orders", False)]
    assert orders.condition == '"customer_id" = ANY($1)' and orders.params == [[3]]
    review = by_table[("review", False)]
    assert review.condition == '"order_id" = ANY($1)' and review.params == [[7, 8, 9]]
    assert by_table[("customer", False)].params == ["ada@example.org"]


async def test_a_table_with_no_parent_rows_found_is_not_selected():
    graph = build_graph(TABLES, KEYS)
    conn: Any = RecordingConnection({})
    selections = await select_rows(conn, graph, TABLES, {"email": "nobody@example.org"})
    assert {s.name for s in selections} == {"customer", "parcel"}


async def test_counterparty_rows_exclude_the_subjects_own_rows_and_withhold_the_other_persons_columns():
    graph = build_graph(TABLES, KEYS)
    found: Any = RecordingConnection({"customer": [{"id": 3}], "orders": [{"id": 7}]})
    selections = await select_rows(found, graph, TABLES, {"email": "ada@example.org", "customer_id": "C-1"})
    own, part = (s for s in selections if s.name == "parcel")
    assert (own.counterparty, part.counterparty) == (False, True)
    assert (
        part.condition
        == '("sender_id" = $2) AND NOT coalesce(((lower("recipient_email") = lower($1))), false)'
    )
    assert own.withheld == ["sender_id"] and part.withheld == ["recipient_email"]
    assert part.subject_columns == ["sender_id"]
    record = {"table": "parcel", "sender_id": "C-1", "recipient_email": "youssef@example.org"}
    assert redacted(record, part.withheld) == {
        "table": "parcel", "sender_id": "C-1", "withheld_columns": ["recipient_email"]
    }  # fmt: skip
    order = [s.name for s in in_deletion_order(graph, selections)]
    assert order.index("review") < order.index("orders") < order.index("customer")


def test_a_condition_shifted_to_share_one_statement_keeps_its_values_bound():
    selection = Selection(
        {"table": "parcel"}, '("a" = $1) AND NOT coalesce("b" = ANY($2), false)', ["x", ["y"]]
    )
    assert selection.shifted(3) == '("a" = $4) AND NOT coalesce("b" = ANY($5), false)'
