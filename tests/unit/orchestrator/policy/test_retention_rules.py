"""Retention promises in the packs become rules a sweep can carry out, and schedules; a rule a
system cannot carry out is a clear error at start-up, not a surprise in a sweep."""

from __future__ import annotations

import copy
from datetime import timedelta

import pytest

from orchestrator.policy.packs import PackError, load_packs, parse_pack
from orchestrator.policy.retention import own_copies_period, retention_rules, sweep_schedule
from orchestrator.schedules import planned_schedules
from orchestrator.workflows.retention_sweep import LEDGER_SCHEDULE_ID

PACKS = load_packs()


def test_every_seed_retention_promise_is_a_rule_with_what_it_counts_from():
    rules = {(p.tenant, r.name): r for p in PACKS.values() for r in retention_rules(p)}
    calls = rules[("upjunoo", "driver-courier-shop-calls")]
    assert (calls.period, calls.where["kind"], calls.connector["kind"]) == (
        "P30D", ["customer_driver", "customer_courier", "customer_shop"], "files"
    )  # fmt: skip
    assert rules[("upjunoo", "support-calls")].period == "P3M"
    assert rules[("jsm", "inactive-customers")].counts_from["event"] == "last_activity"
    logs = rules[("j2s", "connection-logs")]
    assert (logs.counts_from["column"], logs.period) == ("connected_at", "P12M"), "from the log's own date"
    assert rules[("nexio", "ended-surveys")].counts_from["through"] == {"table": "surveys", "on": "survey"}
    assert rules[("nexio", "contact-notes-of-former-customers")].counts_from["event"] == "contract_end"


def test_a_rule_is_swept_daily_unless_its_pack_says_otherwise():
    upjunoo = PACKS["upjunoo"]
    assert sweep_schedule(upjunoo, "support-calls").interval == timedelta(days=1)
    assert own_copies_period(upjunoo) == "P30D"


def test_schedules_one_per_rule_and_one_for_the_ledger():
    planned = planned_schedules(PACKS, "q")
    ids = {p.schedule_id for p in planned}
    assert "privacy-retention-upjunoo-support-calls" in ids and LEDGER_SCHEDULE_ID in ids
    assert len(ids) == sum(len(retention_rules(p)) for p in PACKS.values()) + 1


def _with_rule(**change: object) -> dict:
    document = copy.deepcopy(PACKS["upjunoo"].document)
    rule = document["retention"]["rules"][0]
    rule.update(change)
    return document


def test_a_rule_naming_an_unknown_system_or_table_is_a_pack_error():
    with pytest.raises(PackError, match="no system named 'tape_archive'"):
        retention_rules(parse_pack(_with_rule(system="tape_archive"), "upjunoo.json"))
    with pytest.raises(PackError, match="lists no table 'calls'"):
        retention_rules(parse_pack(_with_rule(table="calls"), "upjunoo.json"))


def test_a_rule_on_a_system_that_cannot_sweep_stops_start_up_with_the_reason():
    document = _with_rule(system="marketing_list")
    document["retention"]["rules"][0].pop("table")
    pack = parse_pack(document, "upjunoo.json")
    with pytest.raises(PackError, match="kind 'kafka_confirm', which cannot sweep"):
        planned_schedules({"upjunoo": pack}, "q")


def test_an_anonymising_rule_must_name_its_columns():
    with pytest.raises(PackError, match="anonymise_columns"):
        parse_pack(_with_rule(action="anonymise"), "upjunoo.json")
