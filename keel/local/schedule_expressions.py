"""EventBridge schedule expressions, `rate(...)` and `cron(...)`, as pure functions (no moto): when a
scheduled rule fires next. Times are UTC, as EventBridge rules run in UTC.

cron fields: minutes hours day-of-month month day-of-week year, with `, - * /`, `?`, `L` (last day of the
month; in day-of-week, `5L` = last Thursday) and `#` (`3#2` = second Tuesday). Day-of-week is 1-7 = SUN-SAT.
`W` (nearest weekday) is refused: not emulated.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

_RATE = re.compile(r"^rate\(\s*(\d+)\s+(minute|minutes|hour|hours|day|days)\s*\)$")
_CRON = re.compile(r"^cron\((.+)\)$")
_UNIT_SECONDS = {"minute": 60, "hour": 3600, "day": 86400}
_MONTHS = {name.upper(): i for i, name in enumerate(calendar.month_abbr) if name}
_DAYS = {name: i + 1 for i, name in enumerate(("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"))}
MAX_YEARS_AHEAD = 5  # a cron expression matching nothing sooner never fires


class ScheduleExpressionError(ValueError):
    """Not a schedule expression EventBridge accepts (or a part of one not emulated)."""


def _aws_weekday(day: datetime) -> int:
    return (day.weekday() + 1) % 7 + 1  # Python: Monday 0; EventBridge: Sunday 1


def _values(field: str, low: int, high: int, names: dict[str, int] | None = None) -> set[int]:
    def number(text: str) -> int:
        value = (names or {}).get(text.upper()) if not text.isdigit() else int(text)
        if value is None or not low <= value <= high:
            raise ScheduleExpressionError(f"{text!r} is outside {low}-{high}")
        return value

    result: set[int] = set()
    for part in field.split(","):
        base, _, step_text = part.partition("/")
        step = int(step_text) if step_text else 1
        if step < 1:
            raise ScheduleExpressionError(f"bad increment in {part!r}")
        if base == "*":
            start, end = low, high
        elif "-" in base:
            first, last = base.split("-", 1)
            start, end = number(first), number(last)
        else:
            start = number(base)
            end = high if step_text else start
        result.update(range(start, end + 1, step))
    return result


@dataclass(frozen=True)
class Cron:
    minutes: set[int]
    hours: set[int]
    days: str  # day-of-month field, kept as text for L
    months: set[int]
    weekdays: str  # day-of-week field, kept as text for L and #
    years: set[int]

    def _day_matches(self, day: datetime) -> bool:
        if day.year not in self.years or day.month not in self.months:
            return False
        last = calendar.monthrange(day.year, day.month)[1]
        if self.days != "?":
            if self.days == "L":
                return day.day == last
            return day.day in _values(self.days, 1, 31)
        weekday = _aws_weekday(day)
        for part in self.weekdays.split(","):
            if part.endswith("L") and len(part) > 1:  # the last such weekday of the month
                if weekday == _values(part[:-1], 1, 7, _DAYS).pop() and day.day + 7 > last:
                    return True
            elif "#" in part:
                wanted, nth = part.split("#", 1)
                if weekday == _values(wanted, 1, 7, _DAYS).pop() and (day.day - 1) // 7 + 1 == int(nth):
                    return True
            elif part == "L":
                if weekday == 7:
                    return True
            elif weekday in _values(part, 1, 7, _DAYS):
                return True
        return False

    def next_after(self, moment: datetime) -> datetime | None:
        start = (moment + timedelta(minutes=1)).replace(second=0, microsecond=0)
        day = start.replace(hour=0, minute=0)
        for _ in range(366 * MAX_YEARS_AHEAD):
            if self._day_matches(day):
                for hour in sorted(self.hours):
                    for minute in sorted(self.minutes):
                        candidate = day.replace(hour=hour, minute=minute)
                        if candidate >= start:
                            return candidate
            day += timedelta(days=1)
        return None


@dataclass(frozen=True)
class Rate:
    seconds: int

    def next_after(self, moment: datetime) -> datetime:
        return moment + timedelta(seconds=self.seconds)


Schedule = Rate | Cron


def parse(expression: str) -> Schedule:
    text = expression.strip()
    rate = _RATE.match(text)
    if rate:
        value, unit = int(rate.group(1)), rate.group(2)
        if value < 1 or (value == 1) != (not unit.endswith("s")):
            raise ScheduleExpressionError(f"{expression!r}: use `rate(1 unit)` or `rate(N units)`, N > 1")
        return Rate(value * _UNIT_SECONDS[unit.rstrip("s")])
    cron = _CRON.match(text)
    if not cron:
        raise ScheduleExpressionError(f"{expression!r} is neither rate(...) nor cron(...)")
    fields = cron.group(1).split()
    if len(fields) != 6:
        raise ScheduleExpressionError(f"{expression!r}: cron needs 6 fields, got {len(fields)}")
    minutes, hours, days, months, weekdays, years = fields
    if (days == "?") == (weekdays == "?"):
        raise ScheduleExpressionError(f"{expression!r}: exactly one of day-of-month and day-of-week is `?`")
    if "W" in days.upper():
        raise ScheduleExpressionError(f"{expression!r}: the W (nearest weekday) wildcard is not emulated")
    schedule = Cron(
        minutes=_values(minutes, 0, 59),
        hours=_values(hours, 0, 23),
        days=days.upper(),
        months=_values(months, 1, 12, _MONTHS),
        weekdays=weekdays.upper(),
        years=_values(years, 1970, 2199),
    )
    schedule.next_after(datetime(2000, 1, 1, tzinfo=UTC))  # validates the day fields once
    return schedule
