"""Durations such as '4 weeks' or '3 months', and calendar arithmetic on dates.

Months and years are calendar months and years (a day that does not exist in
the target month is clamped to its last day); days and weeks are exact.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, timedelta

_UNITS = {
    "d": "days", "day": "days", "days": "days",
    "w": "weeks", "wk": "weeks", "wks": "weeks", "week": "weeks", "weeks": "weeks",
    "mo": "months", "month": "months", "months": "months",
    "y": "years", "yr": "years", "yrs": "years", "year": "years", "years": "years",
}
_DURATION = re.compile(r"^\s*(\d{1,4})\s*([a-zA-Z]+)\s*$")


@dataclass(frozen=True)
class Duration:
    n: int
    unit: str  # days, weeks, months, years

    def __str__(self) -> str:
        word = self.unit if self.n != 1 else self.unit[:-1]
        return f"{self.n} {word}"

    def before(self, d: date) -> date:
        return shift(d, self, -1)

    def after(self, d: date) -> date:
        return shift(d, self, +1)


def parse_duration(text) -> Duration:
    """'4 weeks' -> Duration(4, 'weeks'); raises ValueError for anything else."""
    m = _DURATION.match(str(text))
    if not m or m.group(2).lower() not in _UNITS:
        raise ValueError(text)
    return Duration(int(m.group(1)), _UNITS[m.group(2).lower()])


def shift(d: date, dur: Duration, sign: int) -> date:
    """``d`` moved by ``dur``, clamped to the calendar's first and last day."""
    try:
        if dur.unit == "days":
            return d + timedelta(days=sign * dur.n)
        if dur.unit == "weeks":
            return d + timedelta(weeks=sign * dur.n)
        months = dur.n * (12 if dur.unit == "years" else 1) * sign
        y, m = divmod(d.month - 1 + months, 12)
        year, month = d.year + y, m + 1
        day = min(d.day, calendar.monthrange(year, month)[1])
        return date(year, month, day)
    except (OverflowError, ValueError):
        return date.max if sign > 0 else date.min
