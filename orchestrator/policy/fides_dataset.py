"""Fides data maps as-is: a fideslang Dataset (YAML) turned into the SQL connector's tables (pure).

A Fides user describes a database once, in Fides' own format: collections (tables), fields
with data categories, identity fields (``fides_meta.identity: email``) and references between
fields (``fides_meta.references: [{dataset, field: "customer.id", direction: "from"}]``). A
pack's SQL system may name that file (``"dataset": "shop_dataset.yml"``) instead of listing
``tables``; the pack loader turns it into the very ``tables`` a pack would list, so the
connector, the relation graph and everything after them are unchanged:

- a collection is a table; ``fides_meta.skip_processing`` leaves it out;
- an identity field is the table's ``match`` (Fides' ``phone_number`` is our ``phone``);
- a reference with ``direction: "from"`` (or none: a foreign key, the usual case) says the
  field holds values of the referenced field, found from it (``orders.customer_id`` from
  ``customer.id``): the table's own ``references`` entry; ``direction: "to"`` says the field's
  values lead to the referenced field (``customer.address_id`` to ``address.id``): the
  referenced table is reached from this one, its ``references`` entry points back here;
- the fields' data categories (with their collection's and dataset's) are the system's
  categories when the pack does not list them.

The dataset is validated by fideslang's own model, so a file Fides accepts is a file we read,
and a malformed one is refused at pack load, naming the file and the offending field.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import yaml
from fideslang.models import Dataset, DatasetCollection, DatasetField, FidesDatasetReference
from pydantic import ValidationError

# Fides' identity names that differ from ours (schemas/json/privacy.requests.v1.json).
FIDES_IDENTITIES = {"phone_number": "phone"}


class DatasetError(ValueError):
    """A Fides dataset file that cannot describe an SQL system's tables."""


@dataclass(frozen=True)
class DatasetTables:
    """What a Fides dataset says of one SQL system: its tables in pack form and its categories."""

    fides_key: str
    tables: list[dict[str, Any]]
    categories: list[str]


def dataset_tables(text: str, source: str, fides_key: str | None = None) -> DatasetTables:
    """The pack ``tables`` a fideslang dataset file describes; ``fides_key`` picks one dataset
    when the file holds several. DatasetError names ``source`` and what is wrong."""
    dataset = _chosen(_datasets(text, source), source, fides_key)
    where = f"{source}: dataset {dataset.fides_key!r}"
    collections = [c for c in dataset.collections if not (c.fides_meta and c.fides_meta.skip_processing)]
    if not collections:
        raise DatasetError(f"{where}: no collection to process")
    tables: dict[str, dict[str, Any]] = {c.name: {"table": c.name} for c in collections}
    categories = list(dataset.data_categories or [])
    for collection in collections:
        categories.extend(collection.data_categories or [])
        for field in collection.fields:
            at = f"{where}: {collection.name}.{field.name}"
            if field.fields:
                raise DatasetError(f"{at}: nested fields describe documents, not SQL columns")
            categories.extend(field.data_categories or [])
            meta = field.fides_meta
            if meta is None:
                continue
            if meta.identity:
                _add_identity(tables[collection.name], meta.identity, field.name, at)
            for reference in meta.references or []:
                _add_reference(tables, dataset.fides_key, collection, field, reference, at)
    return DatasetTables(dataset.fides_key, list(tables.values()), _unique(categories))


def _datasets(text: str, source: str) -> list[Dataset]:
    """Every dataset of a Fides file (``dataset: [...]``, as ``fides push`` reads it), validated."""
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise DatasetError(f"{source}: not valid YAML: {exc}") from None
    if (
        not isinstance(document, dict)
        or not isinstance(document.get("dataset"), list)
        or not document["dataset"]
    ):
        raise DatasetError(f"{source}: a Fides dataset file holds a non-empty 'dataset' list")
    datasets = []
    for index, item in enumerate(document["dataset"]):
        try:
            datasets.append(Dataset.model_validate(item))
        except ValidationError as exc:
            first = exc.errors()[0]
            loc = "/".join(str(p) for p in first["loc"]) or "(root)"
            raise DatasetError(f"{source}: dataset/{index}/{loc}: {first['msg']}") from None
    return datasets


def _chosen(datasets: list[Dataset], source: str, fides_key: str | None) -> Dataset:
    keys = [d.fides_key for d in datasets]
    if fides_key is None:
        if len(datasets) > 1:
            raise DatasetError(f"{source}: holds datasets {keys}: name one with 'dataset_key'")
        return datasets[0]
    for dataset in datasets:
        if dataset.fides_key == fides_key:
            return dataset
    raise DatasetError(f"{source}: no dataset {fides_key!r} (the file holds {keys})")


def _add_identity(table: dict[str, Any], identity: str, column: str, at: str) -> None:
    kind = FIDES_IDENTITIES.get(identity, identity)
    match = table.setdefault("match", {})
    if kind in match:
        raise DatasetError(f"{at}: identity {identity!r} is already field {match[kind]!r} of this collection")
    match[kind] = column


def _add_reference(
    tables: dict[str, dict[str, Any]],
    own_key: str,
    collection: DatasetCollection,
    field: DatasetField,
    reference: FidesDatasetReference,
    at: str,
) -> None:
    """One Fides reference as the pack's ``references`` entry of the table it leads to."""
    if reference.dataset != own_key:
        raise DatasetError(
            f"{at}: references dataset {reference.dataset!r}; an SQL system follows references "
            f"within its own database (dataset {own_key!r}) only"
        )
    other, _, column = reference.field.partition(".")
    if not other or not column or "." in column:
        raise DatasetError(f"{at}: reference field {reference.field!r} is not 'collection.field'")
    if other not in tables:
        raise DatasetError(
            f"{at}: references {reference.field!r}, but the dataset has no collection {other!r} to process"
        )
    if reference.direction == "to":
        # This field's values lead to the referenced one: that table is reached from this one.
        tables[other].setdefault("references", []).append(
            {"column": column, "to": f"{collection.name}.{field.name}"}
        )
    else:
        tables[collection.name].setdefault("references", []).append(
            {"column": field.name, "to": reference.field}
        )


def _unique(keys: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(keys))
