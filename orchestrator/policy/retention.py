"""A tenant's retention promises as rules a sweep can carry out, and when each is swept. Pure.

Each rule of a pack's ``retention.rules`` names the system whose connector sweeps it, what its
period counts from (a date column of the rows, or of a related table) and what happens at the
end (erase, anonymise). A rule that names an unknown system or a table the system does not
list is a pack error at load, like any other broken pack.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from orchestrator.policy.packs import PackError, PolicyPack
from schemas.periods import parse_duration
from workers.messages.retention import RetentionRule

DEFAULT_EVERY = "P1D"
DEFAULT_OWN_COPIES = "P30D"


@dataclass(frozen=True)
class SweepSchedule:
    """When a rule is swept: every ``interval``, or by a cron expression."""

    interval: timedelta | None = None
    cron: str | None = None


def retention_rules(pack: PolicyPack) -> list[RetentionRule]:
    """Every retention rule of the pack, with its system's connector; PackError when one is broken."""
    rules = []
    for entry in pack.document.get("retention", {}).get("rules", []):
        where = f"{pack.source}: retention rule {entry['name']!r}"
        try:
            system = pack.system(entry["system"])
        except KeyError:
            raise PackError(f"{where}: no system named {entry['system']!r}") from None
        connector = dict(system["connector"])
        table = entry.get("table") or connector.get("table")
        listed = [t["table"] for t in connector.get("tables", [])] or [connector.get("table")]
        if table not in listed:
            raise PackError(f"{where}: system {system['name']!r} lists no table {table!r} (it has {listed})")
        rules.append(
            RetentionRule(
                tenant=pack.tenant,
                name=entry["name"],
                system=system["name"],
                connector=connector,
                table=table,
                counts_from=dict(entry["counts_from"]),
                period=entry["period"],
                action=entry["action"],
                citation=entry["citation"],
                where={k: list(v) for k, v in entry.get("where", {}).items()},
                anonymise_columns=list(entry.get("anonymise_columns", [])),
                batch_size=int(entry.get("batch_size", 500)),
            )
        )
    names = [r.name for r in rules]
    if len(set(names)) != len(names):
        raise PackError(f"{pack.source}: retention: rule names must be unique")
    return rules


def sweep_schedule(pack: PolicyPack, rule_name: str) -> SweepSchedule:
    """The rule's schedule: its ``schedule`` (``every`` or ``cron``), else once a day."""
    for entry in pack.document.get("retention", {}).get("rules", []):
        if entry["name"] == rule_name:
            spec = entry.get("schedule") or {"every": DEFAULT_EVERY}
            if "cron" in spec:
                return SweepSchedule(cron=spec["cron"])
            return SweepSchedule(interval=_exact(spec["every"]))
    raise KeyError(rule_name)


def own_copies_period(pack: PolicyPack) -> str:
    """How long the orchestrator keeps a closed request's report and records (default 30 days)."""
    period: str = pack.document.get("retention", {}).get("own_copies", DEFAULT_OWN_COPIES)
    return period


def _exact(duration: str) -> timedelta:
    """A schedule interval: calendar months are taken as 30 days (a schedule has no calendar)."""
    months, exact = parse_duration(duration)
    interval = exact + timedelta(days=30 * months)
    if interval <= timedelta(0):
        raise PackError(f"a schedule interval must be positive, not {duration!r}")
    return interval
