"""EventBridge schedule expressions: when a rule fires next."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from keel.local.schedule_expressions import ScheduleExpressionError, parse

WEDNESDAY = datetime(2026, 3, 4, 10, 7, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("rate(1 minute)", datetime(2026, 3, 4, 10, 8, 30, tzinfo=UTC)),
        ("rate(5 minutes)", datetime(2026, 3, 4, 10, 12, 30, tzinfo=UTC)),
        ("rate(1 day)", datetime(2026, 3, 5, 10, 7, 30, tzinfo=UTC)),
        ("cron(0 10 * * ? *)", datetime(2026, 3, 5, 10, 0, tzinfo=UTC)),
        ("cron(0/15 * * * ? *)", datetime(2026, 3, 4, 10, 15, tzinfo=UTC)),
        ("cron(15 12 ? * MON-FRI *)", datetime(2026, 3, 4, 12, 15, tzinfo=UTC)),
        ("cron(0 9 ? * SAT,SUN *)", datetime(2026, 3, 7, 9, 0, tzinfo=UTC)),
        ("cron(0 8 L * ? *)", datetime(2026, 3, 31, 8, 0, tzinfo=UTC)),
        ("cron(0 9 ? * 6L *)", datetime(2026, 3, 27, 9, 0, tzinfo=UTC)),  # last Friday
        ("cron(0 9 ? * 3#2 *)", datetime(2026, 3, 10, 9, 0, tzinfo=UTC)),  # second Tuesday
        ("cron(30 6 1 JAN ? 2027)", datetime(2027, 1, 1, 6, 30, tzinfo=UTC)),
    ],
)
def test_next_time(expression: str, expected: datetime) -> None:
    assert parse(expression).next_after(WEDNESDAY) == expected


def test_a_cron_matching_nothing_soon_never_fires() -> None:
    assert parse("cron(0 0 1 1 ? 1999)").next_after(WEDNESDAY) is None


@pytest.mark.parametrize(
    "expression",
    [
        "rate(1 minutes)",
        "rate(5 minute)",
        "rate(0 minutes)",
        "rate(2 weeks)",
        "cron(0 10 * * *)",
        "cron(0 10 * * * *)",
        "cron(0 10 ? * ? *)",
        "cron(0 10 3W * ? *)",
        "cron(61 10 * * ? *)",
        "every day",
    ],
)
def test_expressions_eventbridge_refuses(expression: str) -> None:
    with pytest.raises(ScheduleExpressionError):
        parse(expression)
