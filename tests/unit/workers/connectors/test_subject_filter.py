"""Connectors search by every identifier of the subject: given, and linked by identity resolution."""

from __future__ import annotations

from workers.connectors.base import subject_filter
from workers.messages.requests import SystemStep, SystemTaskInput


def _task(subject: dict[str, str], linked: dict[str, list[str]]) -> SystemTaskInput:
    step = SystemStep("crm", "erase", {"kind": "sql"}, {"citation": "x"})
    return SystemTaskInput("r1", "t", "erasure", subject, "2026-01-01T00:00:00+00:00", step, linked=linked)


def test_the_identities_searched_are_those_given_and_those_linked_normalised_without_repeats():
    task = _task(
        {"email": " Bruno@Example.org", "phone": "+243 081 000 0002"},
        {"customer_id": ["C-BRU-002"], "phone": ["+2430810000002"], "email": ["bruno@example.org"]},
    )
    assert task.identities() == {
        "email": ["bruno@example.org"],
        "phone": ["+2430810000002"],
        "customer_id": ["C-BRU-002"],
    }


def test_a_table_is_searched_by_every_value_of_each_kind_it_holds():
    condition, params = subject_filter(
        {"email": ["bruno@example.org"], "customer_id": ["C-BRU-002", "C-BRU-009"], "phone": ["+1"]},
        {"customer_id": "customer_id", "email": "email"},
    )
    assert condition == '"customer_id" = $1 OR "customer_id" = $2 OR lower("email") = lower($3)'
    assert params == ["C-BRU-002", "C-BRU-009", "bruno@example.org"]


def test_one_value_per_kind_reads_as_before_and_the_anonymisation_marker_is_nobody():
    assert subject_filter({"email": "Ada@example.org"}, {"email": "email"}, first_param=3) == (
        'lower("email") = lower($3)',
        ["ada@example.org"],
    )
    assert subject_filter({"customer_id": ["anonymised"]}, {"customer_id": "customer_id"}) == ("", [])
