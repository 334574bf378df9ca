"""Deadline arithmetic: calendar months, business days, the shorter of law and promise."""

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from orchestrator.policy.deadlines import add_business_days, compute_deadline, law_for
from schemas.periods import add_iso_period, add_months

moments = st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2090, 12, 31), timezones=st.just(UTC)
)


def test_gdpr_one_month_is_a_calendar_month():
    due = compute_deadline(datetime(2026, 1, 31, 12, tzinfo=UTC), "BE").due_at
    assert due == datetime(2026, 2, 28, 12, tzinfo=UTC)


def test_gdpr_extension_is_two_more_months():
    deadline = compute_deadline(datetime(2026, 3, 15, tzinfo=UTC), "FR")
    assert deadline.extendable_until == datetime(2026, 6, 15, tzinfo=UTC)


def test_ccpa_45_days_with_receipt_in_10_business_days():
    deadline = compute_deadline(datetime(2026, 11, 20, tzinfo=UTC), "US")  # a Friday
    assert deadline.due_at == datetime(2027, 1, 4, tzinfo=UTC)
    assert deadline.receipt_due_at == datetime(2026, 12, 4, tzinfo=UTC)


def test_lgpd_15_days_and_pipeda_30():
    start = datetime(2026, 5, 1, tzinfo=UTC)
    assert compute_deadline(start, "BR").due_at == start + timedelta(days=15)
    assert compute_deadline(start, "CA").due_at == start + timedelta(days=30)


def test_a_shorter_tenant_promise_wins():
    start = datetime(2026, 5, 1, tzinfo=UTC)
    deadline = compute_deadline(start, "BE", promise_days=7)
    assert deadline.due_at == start + timedelta(days=7)
    assert "tenant promise" in deadline.basis


def test_a_longer_tenant_promise_does_not_extend_the_law():
    start = datetime(2026, 5, 1, tzinfo=UTC)
    assert compute_deadline(start, "BR", promise_days=30).due_at == start + timedelta(days=15)


def test_unknown_jurisdiction_defaults_to_30_days():
    assert law_for("CI").days == 30


@given(moments, st.integers(min_value=0, max_value=36))
def test_add_months_lands_in_the_right_month_never_past_its_end(start, months):
    result = add_months(start, months)
    assert (result.year * 12 + result.month) - (start.year * 12 + start.month) == months
    assert result.day <= start.day
    assert result.time() == start.time()


@given(moments, st.integers(min_value=1, max_value=60))
def test_business_days_skip_weekends(start, days):
    result = add_business_days(start, days)
    assert result.weekday() < 5
    weekdays = sum(
        1 for i in range(1, (result - start).days + 1) if (start + timedelta(days=i)).weekday() < 5
    )
    assert weekdays == days


@given(moments, st.sampled_from(["BE", "FR", "US", "BR", "CA", "CI", "MA"]), st.integers(1, 60))
def test_the_due_date_is_never_after_the_legal_period_nor_the_promise(start, jurisdiction, promise):
    law_only = compute_deadline(start, jurisdiction).due_at
    with_promise = compute_deadline(start, jurisdiction, promise_days=promise).due_at
    assert start < with_promise <= law_only
    assert with_promise <= start + timedelta(days=promise)


def test_iso_periods():
    start = datetime(2024, 2, 29, tzinfo=UTC)
    assert add_iso_period(start, "P10Y") == datetime(2034, 2, 28, tzinfo=UTC)
    assert add_iso_period(start, "P3M") == datetime(2024, 5, 29, tzinfo=UTC)
    assert add_iso_period(start, "P30D") == datetime(2024, 3, 30, tzinfo=UTC)
