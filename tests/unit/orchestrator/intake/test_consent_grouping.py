"""Grouping a window of consent changes into batches: pure, no servers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from orchestrator.intake.consent import group_changes
from orchestrator.policy.packs import load_packs
from schemas.models import ConsentChange

PACKS = load_packs()
REF_KEY = b"test-subject-ref-key-of-32-bytes"
T0 = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


def _change(
    event_id: str, tenant: str = "upjunoo", purposes: tuple[str, ...] = ("marketing",), **kw
) -> ConsentChange:
    values = {"subject": {"email": f"{event_id}@example.org"}, "action": "withdraw", "occurred_at": T0, **kw}
    return ConsentChange(event_id=event_id, tenant=tenant, purposes=purposes, **values)


def test_one_batch_per_tenant_with_each_system_given_only_the_withdrawals_of_its_purposes():
    window = [
        _change("a", purposes=("marketing",)),
        _change("b", purposes=("no_such_purpose",)),
        _change("c", action="grant"),
        _change("d", tenant="jsm", purposes=("newsletter",)),
    ]
    batches = {batch.tenant: (batch, entries) for batch, entries in group_changes(window, PACKS, REF_KEY)}
    assert set(batches) == {"upjunoo", "jsm"}
    batch, entries = batches["upjunoo"]
    assert [e.event_id for e in entries] == ["a", "b", "c"] and batch.changes == 3
    shares = {share.step.system: share.entry_indexes for share in batch.systems}
    assert shares == {"crm": [0], "marketing_list": [0], "notify-ad-partners": [0]}, "grants stop nothing"
    assert "ada" not in repr(batch), "the workflow input carries no identities"
    assert all("@" not in ref for e in entries for ref in e.subject_refs)


def test_a_window_delivered_twice_is_the_same_batch_and_duplicates_count_once():
    first = group_changes([_change("a"), _change("b"), _change("a")], PACKS, REF_KEY)
    again = group_changes([_change("b"), _change("a")], PACKS, REF_KEY)
    assert first[0][0].batch_id == again[0][0].batch_id
    assert first[0][0].changes == 2
    other = group_changes([_change("a")], PACKS, REF_KEY)
    assert other[0][0].batch_id != first[0][0].batch_id


def test_changes_are_ordered_by_when_they_happened_not_by_arrival():
    late = _change("late", occurred_at=T0 + timedelta(minutes=5))
    early = _change("early", occurred_at=T0)
    _, entries = group_changes([late, early], PACKS, REF_KEY)[0]
    assert [e.event_id for e in entries] == ["early", "late"]
