"""Deadline arithmetic: the controller's law and clock, calendar months, business days with
holidays, the shorter of law and promise, and a promise that caps the extension."""

import calendar
from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from orchestrator.intake.admission import admit_request, dlq_record
from orchestrator.policy.deadlines import (
    CCPA,
    CCPA_OPT_OUT,
    GDPR,
    PIPEDA,
    QUEBEC_LAW_25,
    ControllerClock,
    Promise,
    add_business_days,
    applicable_law,
    compute_deadline,
    is_business_day,
    law_for,
)
from orchestrator.policy.packs import load_packs
from schemas import DLQ_TOPIC, REQUESTS_TOPIC, ContractViolation
from schemas.contract import validate
from schemas.periods import add_iso_period, add_months
from tests.unit.orchestrator.policy.test_packs_and_plans import _event

PACKS = load_packs()
moments = st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2090, 12, 31), timezones=st.just(UTC)
)
zones = st.sampled_from(
    ["Europe/Paris", "Europe/Brussels", "Africa/Casablanca", "America/Toronto", "Pacific/Auckland", "UTC"]
)
# Instants near the end of a month, late or early in the day: where an offset changes the month.
def _near_month_end(year: int, month: int, back: int, hour: int, minute: int) -> datetime:
    last = calendar.monthrange(year, month)[1]
    return datetime(year, month, last, hour, minute, tzinfo=UTC) - timedelta(days=back)


month_ends = st.builds(
    _near_month_end,
    st.integers(2000, 2090), st.integers(1, 12), st.integers(0, 2), st.sampled_from([0, 1, 2, 21, 22, 23]),
    st.integers(0, 59),
)  # fmt: skip
offsets = st.integers(min_value=-12 * 60, max_value=14 * 60).map(lambda m: timezone(timedelta(minutes=m)))


def _clock(tenant: str) -> ControllerClock:
    return ControllerClock.from_controller(PACKS[tenant].document["controller"])


def test_gdpr_one_month_is_a_calendar_month():
    due = compute_deadline(datetime(2026, 1, 31, 12, tzinfo=UTC), GDPR).due_at
    assert due == datetime(2026, 2, 28, 12, tzinfo=UTC)


def test_gdpr_extension_is_two_more_months():
    deadline = compute_deadline(datetime(2026, 3, 15, tzinfo=UTC), GDPR)
    assert deadline.extendable_until == datetime(2026, 6, 15, tzinfo=UTC)


def test_the_controllers_establishment_decides_the_law_not_the_subjects_country():
    # Brussels-based Jump answers a Tangier parcel recipient under the GDPR.
    assert _clock("jump").law("MA") is GDPR
    assert _clock("jump").law("US") is GDPR, "a US subject of a Belgian controller: GDPR, not CCPA"
    due = compute_deadline(datetime(2026, 1, 31, 10, tzinfo=UTC), _clock("jump").law("MA"),
                           time_zone="Europe/Brussels").due_at  # fmt: skip
    assert due == datetime(2026, 2, 28, 10, tzinfo=UTC)
    assert _clock("upjunoo").law("CA") is PIPEDA
    assert _clock("upjunoo").law("CA", "CA-QC") is QUEBEC_LAW_25


def test_j2s_counts_the_month_on_the_paris_clock_whatever_offset_the_producer_wrote():
    submitted = datetime.fromisoformat("2026-03-01T09:30+11:00")  # 2026-02-28 23:30 in Paris
    due = compute_deadline(submitted, GDPR, Promise(months=1), "Europe/Paris").due_at
    assert due.astimezone(ZoneInfo("Europe/Paris")) == datetime(
        2026, 3, 28, 23, 30, tzinfo=ZoneInfo("Europe/Paris")
    )


def test_quebec_law_25_is_30_days_without_extension():
    deadline = compute_deadline(datetime(2026, 5, 1, tzinfo=UTC), QUEBEC_LAW_25)
    assert deadline.due_at == datetime(2026, 5, 31, tzinfo=UTC)
    assert deadline.extendable_until is None and "no extension" in deadline.no_extension_reason


def test_ccpa_45_days_with_receipt_in_10_business_days_skipping_thanksgiving():
    deadline = compute_deadline(datetime(2026, 11, 20, tzinfo=UTC), CCPA)  # a Friday
    assert deadline.due_at == datetime(2027, 1, 4, tzinfo=UTC)
    # 26 Nov (Thanksgiving) and 27 Nov (the day after, a California holiday) are not counted.
    assert deadline.receipt_due_at == datetime(2026, 12, 8, tzinfo=UTC)


def test_a_ccpa_opt_out_is_15_business_days():
    clock = ControllerClock()  # no establishment stated: the subject's place
    assert applicable_law(clock, "US", request_type="consent_withdrawal") is CCPA_OPT_OUT
    assert applicable_law(clock, "US", request_type="objection", purposes=frozenset({"sale"})) is CCPA_OPT_OUT
    assert applicable_law(clock, "US", request_type="objection", purposes=frozenset({"analytics"})) is CCPA
    for use in ("third_party_sharing", "marketing.advertising.third_party.targeted"):  # fideslang
        opt_out = frozenset({use})
        assert applicable_law(clock, "US", request_type="objection", purposes=opt_out) is CCPA_OPT_OUT
    first_party = frozenset({"marketing.advertising.first_party"})
    assert applicable_law(clock, "US", request_type="objection", purposes=first_party) is CCPA
    due = compute_deadline(datetime(2026, 12, 21, 9, tzinfo=UTC), CCPA_OPT_OUT).due_at
    # 25 Dec and 1 Jan are holidays; weekends skipped: 15 business days end on 13 Jan 2027.
    assert due == datetime(2027, 1, 13, 9, tzinfo=UTC)


def test_nexios_seven_day_promise_caps_the_extension():
    deadline = compute_deadline(
        datetime(2026, 5, 1, tzinfo=UTC), GDPR, Promise.from_pack(PACKS["nexio"].deadline), "Europe/Brussels"
    )
    assert deadline.due_at == datetime(2026, 5, 8, tzinfo=UTC)
    assert deadline.extendable_until is None
    assert "promises" in deadline.no_extension_reason
    allowed = compute_deadline(
        datetime(2026, 5, 1, tzinfo=UTC), GDPR, Promise(days=7, extension_allowed=True)
    )
    assert allowed.extendable_until == datetime(2026, 8, 1, tzinfo=UTC)


def test_lgpd_15_days_and_pipeda_30():
    start = datetime(2026, 5, 1, tzinfo=UTC)
    assert compute_deadline(start, law_for("BR")).due_at == start + timedelta(days=15)
    assert compute_deadline(start, law_for("CA")).due_at == start + timedelta(days=30)


def test_a_longer_tenant_promise_does_not_extend_the_law():
    start = datetime(2026, 5, 1, tzinfo=UTC)
    assert compute_deadline(start, law_for("BR"), Promise(days=30)).due_at == start + timedelta(days=15)


def test_unknown_jurisdiction_defaults_to_30_days():
    assert law_for("CI").days == 30


def test_every_seed_pack_states_its_establishment_clock_language_and_authority():
    for tenant, pack in PACKS.items():
        controller = pack.document["controller"]
        assert controller.get("establishment") and controller.get("time_zone"), tenant
        assert controller.get("language") in ("en", "fr", "nl"), tenant
        assert controller.get("complaints", {}).get("authority"), tenant


def test_a_request_submitted_in_the_future_is_refused_with_its_reason():
    now = datetime(2026, 5, 1, 12, tzinfo=UTC)
    with pytest.raises(ContractViolation) as refused:
        admit_request(_event(submitted_at="2026-05-01T12:10:00Z"), PACKS, b"test", now=now)
    assert refused.value.reason == "future_submitted_at"
    record = dlq_record(b"{}", refused.value, topic=REQUESTS_TOPIC, partition=0, offset=1)
    validate(DLQ_TOPIC, record)  # a reason the DLQ contract lists
    # clock skew tolerated
    admit_request(_event(submitted_at="2026-05-01T12:04:00Z"), PACKS, b"test", now=now)


def test_admission_reads_the_quebec_region_and_refuses_a_region_of_another_country():
    now = datetime(2026, 5, 2, tzinfo=UTC)
    quebec = admit_request(
        _event(jurisdiction="CA", region="CA-QC", submitted_at="2026-05-01T12:00:00Z"),
        PACKS,
        b"test",
        now=now,
    )
    assert "Law 25" in quebec.deadline_basis and quebec.workflow_input.extendable_until is None
    with pytest.raises(ContractViolation):
        admit_request(_event(jurisdiction="CI", region="CA-QC"), PACKS, b"test", now=now)


@given(st.one_of(moments, month_ends), zones, offsets, st.integers(0, 2))
def test_the_due_instant_does_not_depend_on_the_offset_the_producer_wrote(start, zone, offset, months):
    law, promise = GDPR, Promise(months=months or None, days=None if months else 7)
    as_written = compute_deadline(start.astimezone(offset), law, promise, zone)
    in_utc = compute_deadline(start, law, promise, zone)
    assert as_written == in_utc


@given(st.one_of(moments, month_ends), zones)
def test_a_calendar_month_lands_in_the_next_month_of_the_controllers_calendar(start, zone):
    local_start = start.astimezone(ZoneInfo(zone))
    local_due = compute_deadline(start, GDPR, time_zone=zone).due_at.astimezone(ZoneInfo(zone))
    months = (local_due.year * 12 + local_due.month) - (local_start.year * 12 + local_start.month)
    assert months == 1 or (months == 0 and local_due.day == local_start.day), "never a month too late"
    assert local_due.day <= local_start.day or months == 0
    assert local_due - local_start <= timedelta(days=31, hours=2)


@given(moments, st.integers(min_value=1, max_value=40))
def test_business_days_skip_weekends_and_holidays(start, days):
    calendar = ("US", "CA")
    result = add_business_days(start, days, calendar)
    assert is_business_day(result.date(), calendar)
    counted = sum(
        1
        for i in range(1, (result - start).days + 1)
        if is_business_day((start + timedelta(days=i)).date(), calendar)
    )
    assert counted == days


@given(moments, zones, st.sampled_from(["BE", "FR", "US", "BR", "CA", "CI", "MA"]), st.integers(1, 60))
def test_the_due_date_is_never_after_the_legal_period_nor_the_promise(start, zone, place, promise):
    law = law_for(place)
    law_only = compute_deadline(start, law, time_zone=zone).due_at
    with_promise = compute_deadline(start, law, Promise(days=promise), zone).due_at
    assert start < with_promise <= law_only
    assert with_promise <= start + timedelta(days=promise, hours=1), "at most a DST hour of wall-clock drift"


@given(moments, st.integers(min_value=0, max_value=36))
def test_add_months_lands_in_the_right_month_never_past_its_end(start, months):
    result = add_months(start, months)
    assert (result.year * 12 + result.month) - (start.year * 12 + start.month) == months
    assert result.day <= start.day
    assert result.time() == start.time()


def test_iso_periods():
    start = datetime(2024, 2, 29, tzinfo=UTC)
    assert add_iso_period(start, "P10Y") == datetime(2034, 2, 28, tzinfo=UTC)
    assert add_iso_period(start, "P3M") == datetime(2024, 5, 29, tzinfo=UTC)
    assert add_iso_period(start, "P30D") == datetime(2024, 3, 30, tzinfo=UTC)
