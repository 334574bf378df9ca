"""Calendar arithmetic shared by deadlines, retention and escalation: months are calendar months."""

from __future__ import annotations

import calendar
import re
from datetime import datetime, timedelta

_ISO_DURATION = re.compile(
    r"^P(?!$)(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)D)?(?:T(?=\d)(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?$"
)


def add_months(start: datetime, months: int) -> datetime:
    """Same day ``months`` later; the last day of the month when that day does not exist."""
    month_index = start.month - 1 + months
    year = start.year + month_index // 12
    month = month_index % 12 + 1
    day = min(start.day, calendar.monthrange(year, month)[1])
    return start.replace(year=year, month=month, day=day)


def parse_duration(duration: str) -> tuple[int, timedelta]:
    """An ISO 8601 duration as (calendar months, exact time): ``P10Y`` → (120, 0)."""
    found = _ISO_DURATION.match(duration)
    if not found:
        raise ValueError(f"not an ISO 8601 duration: {duration!r}")
    years, months, days, hours, minutes, seconds = (int(part) if part else 0 for part in found.groups())
    return years * 12 + months, timedelta(days=days, hours=hours, minutes=minutes, seconds=seconds)


def add_iso_period(start: datetime, duration: str) -> datetime:
    """``start`` plus an ISO 8601 duration (``P10Y``, ``P3M``, ``P30D``, ``PT20S``)."""
    months, exact = parse_duration(duration)
    return add_months(start, months) + exact


def subtract_iso_period(end: datetime, duration: str) -> datetime:
    months, exact = parse_duration(duration)
    return add_months(end, -months) - exact
