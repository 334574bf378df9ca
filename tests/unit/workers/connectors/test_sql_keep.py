"""Rows an erasure keeps because a kept record refers to them: left out, and said with their basis."""

from __future__ import annotations

from workers.connectors.sql_keep import Kept, KeptRows
from workers.connectors.sql_rows import Selection

CLAIM = KeptRows("shipments", "shipment_id", ["JMP-S-2"], "legal claims: an open claim", "P5Y")


def test_kept_rows_are_left_out_of_what_the_erasure_acts_on():
    own = Selection({"table": "shipments"}, 'lower("recipient_email") = lower($1)', ["ada@example.org"])
    other = Selection({"table": "signals"}, '"email" = $1', ["ada@example.org"])
    acted_on = Kept([CLAIM]).apply([own, other])
    assert acted_on[0].condition == (
        '(lower("recipient_email") = lower($1)) AND NOT coalesce("shipment_id" = ANY($2), false)'
    )
    assert acted_on[0].params == ["ada@example.org", ["JMP-S-2"]]
    assert acted_on[1] is other, "a table the rule keeps nothing of is untouched"


def test_a_system_keeping_rows_answers_retained_with_the_basis_and_until_when():
    done = Kept([CLAIM]).result("anonymised", {"anonymised_by_table": {"shipments": 1}}, {"shipments": 1},
                                "2026-11-23T10:00:00+00:00")  # fmt: skip
    assert (done.outcome, done.legal_basis) == ("retained", "legal claims: an open claim")
    assert done.retained_until == "2031-11-23T10:00:00+00:00"
    assert done.evidence == {"anonymised_by_table": {"shipments": 1}, "kept_by_table": {"shipments": 1},
                             "kept_restricted": False}  # fmt: skip


def test_nothing_kept_leaves_the_outcome_as_it_was():
    assert (
        Kept().result("erased", {"deleted_by_table": {"t": 2}}, {}, "2026-11-23T10:00:00+00:00").outcome
        == "erased"
    )
