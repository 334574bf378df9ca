"""Legal answer deadlines by the controller's law, in the controller's time zone. Pure and tested.

Which law applies is the controller's choice to state, not the subject's country code: the
pack names its establishment, its time zone and, per jurisdiction it serves, the law that
applies there (``controller.laws``); a jurisdiction it does not list falls under the law of
its establishment (Brussels-based Jump answers a Tangier recipient under the GDPR).

The legal clock starts at the instant of receipt, read on the controller's wall clock:
calendar months are calendar months in that zone (31 Jan + 1 month = 28/29 Feb), whatever
offset the producer wrote. Business days skip weekends and the public holidays of the law's
calendar (the ``holidays`` package). The shorter of the legal period and the tenant's own
promise wins, and a promise caps the extension too unless the tenant's policy allows one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import cache
from zoneinfo import ZoneInfo

import holidays

from orchestrator.policy.regions import EEA
from schemas.periods import add_iso_period, add_months

# Only these are opt-outs under the CCPA: withdrawing consent, or objecting to the sale or
# sharing of personal information (Cal. Code Regs. tit. 11, §7026(f): 15 business days).
OPT_OUT_PURPOSES = frozenset({"sale", "sharing", "sale_sharing", "cross_context_behavioral_advertising"})
# The same in fideslang data uses, each with everything under it: sharing with third parties,
# and advertising on data joined with theirs (cross-context behavioural advertising).
OPT_OUT_DATA_USES = ("third_party_sharing", "marketing.advertising.third_party")


def is_opt_out(purposes: frozenset[str]) -> bool:
    """Whether an objection naming these purposes opts out of sale or sharing (CCPA)."""
    under = any(p == use or p.startswith(use + ".") for p in purposes for use in OPT_OUT_DATA_USES)
    return bool(purposes & OPT_OUT_PURPOSES) or under


@dataclass(frozen=True)
class LegalPeriod:
    """A law's answer period and its extension, in months, days or business days."""

    law: str
    months: int = 0
    days: int = 0
    business_days: int = 0
    extension_months: int = 0
    extension_days: int = 0
    receipt_business_days: int | None = None
    # (country, subdivision) whose public holidays are not business days.
    holiday_calendar: tuple[str, str | None] = ("", None)


GDPR = LegalPeriod("GDPR Art. 12(3)", months=1, extension_months=2)
UK_GDPR = LegalPeriod("UK GDPR Art. 12(3)", months=1, extension_months=2)
CCPA = LegalPeriod(
    "CCPA §1798.130", days=45, extension_days=45, receipt_business_days=10, holiday_calendar=("US", "CA")
)
CCPA_OPT_OUT = LegalPeriod(
    "CCPA opt-out: Cal. Code Regs. tit. 11 §7026(f), 15 business days",
    business_days=15,
    holiday_calendar=("US", "CA"),
)
LGPD = LegalPeriod("LGPD Art. 19", days=15)
PIPEDA = LegalPeriod("PIPEDA Principle 4.9 / s.8(3)", days=30, extension_days=30)
QUEBEC_LAW_25 = LegalPeriod("Quebec Law 25 (private sector act s. 32): 30 days, no extension", days=30)
DEFAULT = LegalPeriod("no statutory period known: 30 days by default", days=30)

# The names a pack may use in ``controller.laws``.
LAWS: dict[str, LegalPeriod] = {
    "GDPR": GDPR,
    "UK_GDPR": UK_GDPR,
    "CCPA": CCPA,
    "LGPD": LGPD,
    "PIPEDA": PIPEDA,
    "QUEBEC_LAW_25": QUEBEC_LAW_25,
    "DEFAULT": DEFAULT,
}

# The law of a place (a country or an ISO 3166-2 subdivision such as CA-QC).
_BY_PLACE: dict[str, LegalPeriod] = {
    **{code: GDPR for code in EEA},
    "GB": UK_GDPR,
    "US": CCPA,
    "BR": LGPD,
    "CA": PIPEDA,
    "CA-QC": QUEBEC_LAW_25,
}


def law_for(place: str) -> LegalPeriod:
    """The law of a country or subdivision (``CA-QC``); unknown places get 30 days."""
    return _BY_PLACE.get(place.upper(), DEFAULT)


@dataclass(frozen=True)
class ControllerClock:
    """Where the controller is established, its wall clock, and the law per jurisdiction served.

    ``establishment`` None is a pack that states none (test packs): then the law of the
    subject's place applies, as before packs could say otherwise.
    """

    establishment: str | None = None
    time_zone: str = "UTC"
    laws: tuple[tuple[str, str], ...] = ()

    @classmethod
    def from_controller(cls, controller: dict[str, object]) -> ControllerClock:
        laws = controller.get("laws") or {}
        assert isinstance(laws, dict)
        establishment = controller.get("establishment")
        return cls(
            establishment=str(establishment) if establishment else None,
            time_zone=str(controller.get("time_zone") or "UTC"),
            laws=tuple(sorted((str(k), str(v)) for k, v in laws.items())),
        )

    def law(self, jurisdiction: str, region: str | None = None) -> LegalPeriod:
        """The subdivision's law if the pack names one, else the country's, else the establishment's."""
        named = dict(self.laws)
        for place in (region, jurisdiction):
            if place and place.upper() in named:
                return LAWS[named[place.upper()]]
        if self.establishment is None:
            return law_for(region or jurisdiction)
        return law_for(self.establishment)


def applicable_law(
    clock: ControllerClock,
    jurisdiction: str,
    region: str | None = None,
    request_type: str = "",
    purposes: frozenset[str] = frozenset(),
) -> LegalPeriod:
    """The law's period for this request: a CCPA opt-out has its own, shorter one."""
    law = clock.law(jurisdiction, region)
    if law is CCPA and (
        request_type == "consent_withdrawal" or (request_type == "objection" and is_opt_out(purposes))
    ):
        return CCPA_OPT_OUT
    return law


@cache
def _holidays(country: str, subdivision: str | None, year: int) -> frozenset[date]:
    if not country:
        return frozenset()
    return frozenset(holidays.country_holidays(country, subdiv=subdivision, years=year))


def is_business_day(day: date, calendar: tuple[str, str | None] = ("", None)) -> bool:
    """Monday to Friday, and not a public holiday of ``calendar`` (country, subdivision)."""
    return day.weekday() < 5 and day not in _holidays(calendar[0], calendar[1], day.year)


def add_business_days(start: datetime, days: int, calendar: tuple[str, str | None] = ("", None)) -> datetime:
    """``days`` working days after ``start`` (weekends and the calendar's holidays skipped)."""
    current = start
    remaining = days
    while remaining > 0:
        current += timedelta(days=1)
        if is_business_day(current.date(), calendar):
            remaining -= 1
    return current


def _period_end(start: datetime, months: int, days: int, business_days: int = 0,
                calendar: tuple[str, str | None] = ("", None)) -> datetime:  # fmt: skip
    end = add_months(start, months) + timedelta(days=days)
    return add_business_days(end, business_days, calendar) if business_days else end


def _instant(local: datetime) -> datetime:
    """A wall-clock time of the controller's zone as a UTC instant (a time skipped by a DST
    change is read with the offset before the change)."""
    return local.astimezone(UTC)


@dataclass(frozen=True)
class Deadline:
    """When a request is due, and why; whether and until when it may be extended."""

    due_at: datetime
    basis: str
    extendable_until: datetime | None
    receipt_due_at: datetime | None
    # Why no extension is possible, when none is (the law allows none, or the promise caps it).
    no_extension_reason: str | None = None


@dataclass(frozen=True)
class Promise:
    """The tenant's own answer period, and whether its policy allows extending it."""

    days: int | None = None
    months: int | None = None
    duration: str | None = None
    extension_allowed: bool = False

    @classmethod
    def from_pack(cls, deadline: dict[str, object]) -> Promise:
        def whole(key: str) -> int | None:
            value = deadline.get(key)
            return value if isinstance(value, int) else None

        duration = deadline.get("promise_duration")
        return cls(
            whole("promise_days"),
            whole("promise_months"),
            str(duration) if duration else None,
            bool(deadline.get("extension_allowed")),
        )

    @property
    def stated(self) -> bool:
        return bool(self.days or self.months or self.duration)


def compute_deadline(
    submitted_at: datetime,
    law: LegalPeriod,
    promise: Promise = Promise(),
    time_zone: str = "UTC",
) -> Deadline:
    """The earlier of ``law``'s period and the tenant's promise, counted on the controller's clock."""
    start = submitted_at.astimezone(ZoneInfo(time_zone))
    legal_due = _period_end(start, law.months, law.days, law.business_days, law.holiday_calendar)
    due, basis = legal_due, law.law
    promise_due = None
    if promise.duration:
        promise_due = add_iso_period(start, promise.duration)
    elif promise.days or promise.months:
        promise_due = _period_end(start, promise.months or 0, promise.days or 0)
    if promise_due is not None and _instant(promise_due) < _instant(due):
        due, basis = promise_due, "tenant promise (shorter than " + law.law + ")"
    extendable, why_not = None, None
    if not (law.extension_months or law.extension_days):
        why_not = f"the applicable law ({law.law}) allows no extension"
    elif promise.stated and not promise.extension_allowed:
        why_not = (
            "the controller promises its answer within its own period and its policy allows no extension"
        )
    else:
        extendable = _instant(_period_end(legal_due, law.extension_months, law.extension_days))
    receipt = None
    if law.receipt_business_days is not None:
        receipt = _instant(add_business_days(start, law.receipt_business_days, law.holiday_calendar))
    return Deadline(_instant(due), basis, extendable, receipt, why_not)
