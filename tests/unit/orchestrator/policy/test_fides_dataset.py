"""A Fides dataset file becomes the tables a pack would list (orchestrator.policy.fides_dataset),
and a pack naming one loads as if it listed them (orchestrator.policy.packs)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from fideslang.default_taxonomy import DEFAULT_TAXONOMY

from orchestrator.policy.fides_dataset import DatasetError, dataset_tables
from orchestrator.policy.packs import PackError, load_pack_file, parse_pack

TEST_PACKS = Path(__file__).resolve().parents[3] / "integration" / "packs"


def _dataset(*collections: dict, key: str = "crm") -> str:
    return yaml.safe_dump({"dataset": [{"fides_key": key, "collections": list(collections)}]})


def _field(name: str, *categories: str, **meta: object) -> dict:
    field: dict = {"name": name, "data_categories": list(categories) or ["system.operations"]}
    if meta:
        field["fides_meta"] = meta
    return field


def _ref(field: str, direction: str | None = None, dataset: str = "crm") -> dict:
    reference = {"dataset": dataset, "field": field}
    if direction:
        reference["direction"] = direction
    return reference


def test_an_identity_field_is_the_tables_match_and_fides_identity_names_become_ours():
    text = _dataset(
        {
            "name": "person",
            "fields": [
                _field("id", primary_key=True),
                _field("mail", "user.contact.email", identity="email"),
                _field("mobile", "user.contact.phone_number", identity="phone_number"),
            ],
        }
    )
    described = dataset_tables(text, "crm.yml")
    assert described.fides_key == "crm"
    assert described.tables == [{"table": "person", "match": {"email": "mail", "phone": "mobile"}}]
    assert described.categories == ["system.operations", "user.contact.email", "user.contact.phone_number"]


def test_a_reference_from_a_key_is_the_referencing_tables_reference():
    text = _dataset(
        {"name": "customer", "fields": [_field("id"), _field("email", identity="email")]},
        {"name": "orders", "fields": [_field("customer_id", references=[_ref("customer.id", "from")])]},
    )
    tables = {t["table"]: t for t in dataset_tables(text, "crm.yml").tables}
    assert tables["orders"]["references"] == [{"column": "customer_id", "to": "customer.id"}]
    assert "references" not in tables["customer"]


def test_a_reference_without_direction_reads_as_a_foreign_key():
    text = _dataset(
        {"name": "customer", "fields": [_field("id"), _field("email", identity="email")]},
        {"name": "orders", "fields": [_field("customer_id", references=[_ref("customer.id")])]},
    )
    tables = {t["table"]: t for t in dataset_tables(text, "crm.yml").tables}
    assert tables["orders"]["references"] == [{"column": "customer_id", "to": "customer.id"}]


def test_a_reference_to_another_collection_makes_that_collection_reached_from_this_one():
    # The customer row names its loyalty card: the card is found from the customer's card_id.
    text = _dataset(
        {
            "name": "customer",
            "fields": [
                _field("email", identity="email"),
                _field("card_id", references=[_ref("card.id", "to")]),
            ],
        },
        {"name": "card", "fields": [_field("id", primary_key=True), _field("number", "user.financial")]},
    )
    tables = {t["table"]: t for t in dataset_tables(text, "crm.yml").tables}
    assert tables["card"]["references"] == [{"column": "id", "to": "customer.card_id"}]
    assert "references" not in tables["customer"]


def test_skipped_collections_are_left_out():
    text = _dataset(
        {"name": "customer", "fields": [_field("email", identity="email")]},
        {"name": "audit", "fides_meta": {"skip_processing": True}, "fields": [_field("id")]},
    )
    assert [t["table"] for t in dataset_tables(text, "crm.yml").tables] == ["customer"]


def test_one_dataset_of_several_is_chosen_by_its_key():
    two = yaml.safe_dump(
        {
            "dataset": [
                {
                    "fides_key": "a",
                    "collections": [{"name": "x", "fields": [_field("email", identity="email")]}],
                },
                {
                    "fides_key": "b",
                    "collections": [{"name": "y", "fields": [_field("email", identity="email")]}],
                },
            ]
        }
    )
    assert [t["table"] for t in dataset_tables(two, "two.yml", "b").tables] == ["y"]
    with pytest.raises(
        DatasetError, match=r"two.yml: holds datasets \['a', 'b'\]: name one with 'dataset_key'"
    ):
        dataset_tables(two, "two.yml")
    with pytest.raises(DatasetError, match=r"no dataset 'c'"):
        dataset_tables(two, "two.yml", "c")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("dataset: [", r"bad.yml: not valid YAML"),
        ("collections: []", r"bad.yml: a Fides dataset file holds a non-empty 'dataset' list"),
        (
            yaml.safe_dump({"dataset": [{"fides_key": "crm"}]}),
            r"bad.yml: dataset/0/collections: Field required",
        ),
        (
            yaml.safe_dump({"dataset": [{"fides_key": "not a key", "collections": []}]}),
            r"bad.yml: dataset/0/fides_key: ",
        ),
        (
            _dataset(
                {"name": "customer", "fields": [_field("id", references=[_ref("orders.id", "sideways")])]}
            ),
            r"bad.yml: dataset/0/collections/0/fields/0/fides_meta/references/0/direction: ",
        ),
        (
            _dataset(
                {"name": "customer", "fields": [_field("id", references=[_ref("user.id", dataset="other")])]}
            ),
            r"customer.id: references dataset 'other'; an SQL system follows references within its own",
        ),
        (
            _dataset({"name": "customer", "fields": [_field("id", references=[_ref("orders.id")])]}),
            r"customer.id: references 'orders.id', but the dataset has no collection 'orders'",
        ),
        (
            _dataset({"name": "customer", "fields": [_field("id", references=[_ref("orders")])]}),
            r"customer.id: reference field 'orders' is not 'collection.field'",
        ),
        (
            _dataset({"name": "customer", "fields": [{"name": "profile", "fields": [_field("email")]}]}),
            r"customer.profile: nested fields describe documents, not SQL columns",
        ),
        (
            _dataset(
                {
                    "name": "customer",
                    "fields": [_field("email", identity="email"), _field("email2", identity="email")],
                }
            ),
            r"customer.email2: identity 'email' is already field 'email' of this collection",
        ),
    ],
)
def test_a_malformed_dataset_is_refused_naming_the_file_and_the_field(text: str, message: str):
    with pytest.raises(DatasetError, match=message):
        dataset_tables(text, "bad.yml")


def test_the_shop_dataset_loads_as_the_tables_the_shop_pack_lists():
    listed = {
        t["table"]: t
        for t in load_pack_file(TEST_PACKS / "shop.json").system("shop_db")["connector"]["tables"]
    }
    pack = load_pack_file(TEST_PACKS / "shopfides.json").system("shop_db")["connector"]
    described = {t["table"]: t for t in pack["tables"]}
    assert described.keys() == listed.keys()
    assert {n: t.get("match") for n, t in described.items()} == {n: t.get("match") for n, t in listed.items()}
    assert described["review"]["references"] == listed["review"]["references"]
    # What the database's foreign keys say, the dataset says too (the graph keeps one of each).
    for table in ("address", "orders", "payment"):
        assert described[table]["references"] == [{"column": "customer_id", "to": "customer.id"}]
    assert pack["dataset_key"] == "shop_postgres"


def test_the_shop_datasets_categories_are_fideslang_data_categories():
    system = load_pack_file(TEST_PACKS / "shopfides.json").system("shop_db")
    known = {category.fides_key for category in DEFAULT_TAXONOMY.data_category}
    assert system["categories"], "the categories come from the dataset's fields"
    assert set(system["categories"]) <= known


def _pack_with(tmp_path: Path, connector: dict) -> Path:
    pack = json.loads((TEST_PACKS / "shopfides.json").read_text())
    pack["systems"][0]["connector"] = connector
    path = tmp_path / "shopfides.json"
    path.write_text(json.dumps(pack))
    return path


def test_a_pack_naming_a_missing_or_broken_dataset_is_refused(tmp_path: Path):
    missing = _pack_with(tmp_path, {"kind": "sql", "database": "sandbox_shop", "dataset": "nowhere.yml"})
    with pytest.raises(
        PackError, match=r"systems/0/connector/dataset: 'nowhere.yml' not found next to the pack"
    ):
        load_pack_file(missing)
    (tmp_path / "broken.yml").write_text("dataset: []")
    broken = _pack_with(tmp_path, {"kind": "sql", "database": "sandbox_shop", "dataset": "broken.yml"})
    with pytest.raises(
        PackError, match=r"systems/0/connector/dataset: .*broken.yml: a Fides dataset file holds"
    ):
        load_pack_file(broken)
    both = _pack_with(
        tmp_path, {"kind": "sql", "database": "s", "dataset": "broken.yml", "tables": [{"table": "t"}]}
    )
    with pytest.raises(PackError, match=r"'dataset' describes an sql system's tables instead of 'tables'"):
        load_pack_file(both)


def test_a_pack_document_naming_a_dataset_it_has_not_read_is_refused():
    document = json.loads((TEST_PACKS / "shopfides.json").read_text())
    document["systems"][0]["categories"] = ["user.contact.email"]
    with pytest.raises(PackError, match=r"systems/0/connector/dataset: the dataset file was not read"):
        parse_pack(document, "shopfides.json")
