"""Load policy packs (tenants as data) and validate them against pack.schema.json on load.

A broken pack is a start-up error that names the file and the offending field, never a
surprise in the middle of a request.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from jsonschema import Draft202012Validator

from orchestrator.policy.fides_dataset import DatasetError, dataset_tables
from orchestrator.policy.taxonomy import unknown_keys
from schemas.relations import RelationError, build_graph

BUILTIN_PACKS_DIR = Path(str(resources.files("orchestrator.policy").joinpath("packs")))
PACKS_DIR_ENV = "PRIVACY_PACKS_DIR"


class PackError(ValueError):
    """A policy pack is missing or does not satisfy the pack schema."""


@dataclass(frozen=True)
class PolicyPack:
    """One tenant's pack: the validated document plus convenient look-ups."""

    tenant: str
    document: dict[str, Any]
    source: str

    @property
    def systems(self) -> list[dict[str, Any]]:
        systems: list[dict[str, Any]] = self.document["systems"]
        return systems

    @property
    def deadline(self) -> dict[str, Any]:
        deadline: dict[str, Any] = self.document.get("deadline", {})
        return deadline

    def system(self, name: str) -> dict[str, Any]:
        for system in self.systems:
            if system["name"] == name:
                return system
        raise KeyError(name)


@cache
def _validator() -> Draft202012Validator:
    schema = json.loads((BUILTIN_PACKS_DIR / "pack.schema.json").read_text("utf-8"))
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


def parse_pack(document: Any, source: str) -> PolicyPack:
    """Validate a pack document; PackError names the source and the first bad field."""
    errors = sorted(_validator().iter_errors(document), key=lambda e: list(e.absolute_path))
    if errors:
        first = errors[0]
        where = "/".join(str(p) for p in first.absolute_path) or "(root)"
        raise PackError(f"{source}: {where}: {first.message}")
    names = [s["name"] for s in document["systems"]]
    duplicated = sorted({n for n in names if names.count(n) > 1})
    if duplicated:
        raise PackError(f"{source}: systems: duplicate system names {duplicated}")
    _check_relations(document, source)
    unknown = unknown_keys(document)
    if unknown:
        raise PackError(f"{source}: {unknown[0]}")
    zone = document["controller"].get("time_zone")
    if zone is not None:
        try:
            ZoneInfo(zone)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise PackError(f"{source}: controller/time_zone: {zone!r} is not an IANA time zone") from exc
    return PolicyPack(tenant=document["tenant"], document=document, source=source)


def _check_relations(document: dict[str, Any], source: str) -> None:
    """What the pack alone says of each SQL system's table relations: well-formed references
    to listed tables, no cycle. The connector checks the rest against the database."""
    for index, system in enumerate(document["systems"]):
        tables = system["connector"].get("tables")
        if "dataset" in system["connector"] and not tables:
            raise PackError(
                f"{source}: systems/{index}/connector/dataset: the dataset file was not read "
                "(a pack naming one is loaded from its file: load_pack_file)"
            )
        if system["connector"]["kind"] != "sql" or not tables:
            continue
        try:
            build_graph(tables)
        except RelationError as exc:
            raise PackError(f"{source}: systems/{index}/connector/tables ({system['name']}): {exc}") from None
        listed = {table["table"] for table in tables}
        for request_type, rule in system["actions"].items():
            for keep in rule.get("keep_referenced", []):
                if keep["table"] not in listed:
                    raise PackError(
                        f"{source}: systems/{index}/actions/{request_type}/keep_referenced: "
                        f"table {keep['table']!r} is not one of {system['name']}'s tables"
                    )


def load_pack_file(path: Path) -> PolicyPack:
    try:
        document = json.loads(path.read_text("utf-8"))
    except json.JSONDecodeError as exc:
        raise PackError(f"{path}: not valid JSON: {exc}") from exc
    _read_datasets(document, path)
    pack = parse_pack(document, str(path))
    if pack.tenant != path.stem:
        raise PackError(f"{path}: tenant: {pack.tenant!r} does not match the file name")
    return pack


def _read_datasets(document: Any, path: Path) -> None:
    """An SQL system naming a Fides dataset file gets the tables (and, unless listed, the
    categories) it describes (orchestrator.policy.fides_dataset), before the pack is validated."""
    systems = document.get("systems") if isinstance(document, dict) else None
    for index, system in enumerate(systems if isinstance(systems, list) else []):
        connector = system.get("connector") if isinstance(system, dict) else None
        if not isinstance(connector, dict) or "dataset" not in connector:
            continue
        where = f"{path}: systems/{index}/connector"
        if connector.get("kind") != "sql" or "tables" in connector:
            raise PackError(f"{where}: 'dataset' describes an sql system's tables instead of 'tables'")
        dataset_file = _dataset_file(str(connector["dataset"]), path, where)
        try:
            described = dataset_tables(
                dataset_file.read_text("utf-8"), str(dataset_file), connector.get("dataset_key")
            )
        except DatasetError as exc:
            raise PackError(f"{where}/dataset: {exc}") from None
        connector["tables"] = described.tables
        connector.setdefault("dataset_key", described.fides_key)
        system.setdefault("categories", described.categories)


def _dataset_file(name: str, pack_path: Path, where: str) -> Path:
    """A dataset file named by a pack: next to the pack, else in a $PRIVACY_PACKS_DIR folder."""
    candidates = [pack_path.parent / name, *(directory / name for directory in pack_dirs())]
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    raise PackError(f"{where}/dataset: {name!r} not found next to the pack nor in {PACKS_DIR_ENV}")


def pack_dirs() -> list[Path]:
    """The built-in packs, then each folder of $PRIVACY_PACKS_DIR (``os.pathsep``-separated)."""
    extra = [Path(p) for p in os.environ.get(PACKS_DIR_ENV, "").split(os.pathsep) if p]
    return [BUILTIN_PACKS_DIR, *extra]


def load_packs(directories: list[Path] | None = None) -> dict[str, PolicyPack]:
    """Every ``<tenant>.json`` pack of the folders; a tenant defined twice is an error."""
    packs: dict[str, PolicyPack] = {}
    for directory in directories or pack_dirs():
        if not directory.is_dir():
            raise PackError(f"{directory}: policy pack folder not found")
        for path in sorted(directory.glob("*.json")):
            if path.name.endswith(".schema.json"):
                continue
            pack = load_pack_file(path)
            if pack.tenant in packs:
                raise PackError(
                    f"{path}: tenant {pack.tenant!r} is already defined by {packs[pack.tenant].source}"
                )
            packs[pack.tenant] = pack
    if not packs:
        raise PackError("no policy packs found")
    return packs
