"""Calendar arithmetic shared by deadlines and retention: months are calendar months."""

from __future__ import annotations

import calendar
import re
from datetime import datetime, timedelta

_ISO_PERIOD = re.compile(r"^P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)D)?$")


def add_months(start: datetime, months: int) -> datetime:
    """Same day ``months`` later; the last day of the month when that day does not exist."""
    month_index = start.month - 1 + months
    year = start.year + month_index // 12
    month = month_index % 12 + 1
    day = min(start.day, calendar.monthrange(year, month)[1])
    return start.replace(year=year, month=month, day=day)


def add_iso_period(start: datetime, period: str) -> datetime:
    """``start`` plus an ISO 8601 period of years, months and days (``P10Y``, ``P3M``, ``P30D``)."""
    found = _ISO_PERIOD.match(period)
    if not found or period == "P":
        raise ValueError(f"not an ISO 8601 period of years/months/days: {period!r}")
    years, months, days = (int(part) if part else 0 for part in found.groups())
    return add_months(start, years * 12 + months) + timedelta(days=days)
