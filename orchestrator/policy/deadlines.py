"""Legal answer deadlines per jurisdiction, with tenant promises. Pure and tested.

The legal clock starts at ``submitted_at``. Calendar months are calendar months (31 Jan +
1 month = 28/29 Feb), business days skip weekends; the shorter of the legal period and the
tenant's own promise wins.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from orchestrator.policy.regions import EEA
from schemas.periods import add_iso_period, add_months


@dataclass(frozen=True)
class LegalPeriod:
    """A law's answer period and its extension, in months or days."""

    law: str
    months: int = 0
    days: int = 0
    extension_months: int = 0
    extension_days: int = 0
    receipt_business_days: int | None = None


GDPR = LegalPeriod("GDPR Art. 12(3)", months=1, extension_months=2)
UK_GDPR = LegalPeriod("UK GDPR Art. 12(3)", months=1, extension_months=2)
CCPA = LegalPeriod("CCPA §1798.130", days=45, extension_days=45, receipt_business_days=10)
LGPD = LegalPeriod("LGPD Art. 19", days=15)
PIPEDA = LegalPeriod("PIPEDA Principle 4.9 / s.8(3)", days=30, extension_days=30)
DEFAULT = LegalPeriod("no statutory period known: 30 days by default", days=30)

_BY_JURISDICTION: dict[str, LegalPeriod] = {
    **{code: GDPR for code in EEA},
    "GB": UK_GDPR,
    "US": CCPA,
    "BR": LGPD,
    "CA": PIPEDA,
}


def law_for(jurisdiction: str) -> LegalPeriod:
    return _BY_JURISDICTION.get(jurisdiction.upper(), DEFAULT)


def add_business_days(start: datetime, days: int) -> datetime:
    """``days`` working days (Monday to Friday) after ``start``."""
    current = start
    remaining = days
    while remaining > 0:
        current += timedelta(days=1)
        if current.weekday() < 5:
            remaining -= 1
    return current


def _period_end(start: datetime, months: int, days: int) -> datetime:
    return add_months(start, months) + timedelta(days=days)


@dataclass(frozen=True)
class Deadline:
    """When a request is due, and why."""

    due_at: datetime
    basis: str
    extendable_until: datetime | None
    receipt_due_at: datetime | None


def compute_deadline(
    submitted_at: datetime,
    jurisdiction: str,
    promise_days: int | None = None,
    promise_months: int | None = None,
    promise_duration: str | None = None,
) -> Deadline:
    """The earlier of the legal period of ``jurisdiction`` and the tenant's promise."""
    law = law_for(jurisdiction)
    legal_due = _period_end(submitted_at, law.months, law.days)
    due, basis = legal_due, law.law
    promise_due = None
    if promise_duration:
        promise_due = add_iso_period(submitted_at, promise_duration)
    elif promise_days or promise_months:
        promise_due = _period_end(submitted_at, promise_months or 0, promise_days or 0)
    if promise_due is not None and promise_due < due:
        due, basis = promise_due, "tenant promise (shorter than " + law.law + ")"
    extendable = None
    if law.extension_months or law.extension_days:
        extendable = _period_end(legal_due, law.extension_months, law.extension_days)
    receipt = None
    if law.receipt_business_days is not None:
        receipt = add_business_days(submitted_at, law.receipt_business_days)
    return Deadline(due_at=due, basis=basis, extendable_until=extendable, receipt_due_at=receipt)
