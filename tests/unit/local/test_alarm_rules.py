"""Composite alarm rules: CloudWatch's AlarmRule grammar, parsed and evaluated."""

from __future__ import annotations

import pytest

from keel.local.alarm_rules import AlarmRuleError, holds, parse, references

ARN = "arn:aws:cloudwatch:us-east-1:123456789012:alarm:disk"
STATES = {"cpu": "ALARM", "mem": "OK", ARN: "INSUFFICIENT_DATA"}


@pytest.mark.parametrize(
    ("rule", "expected"),
    [
        ("ALARM(cpu)", True),
        ('ALARM("mem")', False),
        (f"INSUFFICIENT_DATA({ARN})", True),
        ("OK(mem) AND ALARM(cpu)", True),
        ("NOT ALARM(cpu) OR OK(mem)", True),  # NOT binds tighter than OR
        ("NOT (ALARM(cpu) OR OK(mem))", False),
        ("ALARM(mem) OR ALARM(cpu) AND FALSE", False),  # AND binds tighter than OR
        ("(ALARM(mem) OR ALARM(cpu)) AND TRUE", True),
        ("ALARM(unknown)", False),
        ("TRUE", True),
    ],
)
def test_rules_hold_as_cloudwatch_reads_them(rule: str, expected: bool) -> None:
    assert holds(parse(rule), STATES.get) is expected


def test_references_by_name_and_arn() -> None:
    rule = parse(f'ALARM("keel local drift") OR (OK({ARN}) AND NOT INSUFFICIENT_DATA(cpu))')
    assert references(rule) == {"keel local drift", ARN, "cpu"}


@pytest.mark.parametrize(
    "rule", ["", "ALARM()", "ALARM(cpu", "ALARM(cpu) XOR OK(mem)", "ALARM(cpu) OK(mem)", "maybe"]
)
def test_rules_outside_the_grammar_are_refused(rule: str) -> None:
    with pytest.raises(AlarmRuleError):
        parse(rule)
