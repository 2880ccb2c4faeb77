"""CloudWatch composite alarm rules (AlarmRule), parsed and evaluated as pure functions (no moto).

Grammar, as PutCompositeAlarm documents it: ALARM(x), OK(x), INSUFFICIENT_DATA(x) — x an alarm name or
ARN, with or without double quotes —, TRUE, FALSE, NOT, AND, OR and parentheses. NOT binds tighter than
AND, AND tighter than OR.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

STATES = ("ALARM", "OK", "INSUFFICIENT_DATA")
_TOKEN = re.compile(
    r'\s*(?:(?P<paren>[()])|(?P<quoted>"(?:[^"\\]|\\.)*")|(?P<word>[^\s()"]+))',
)


class AlarmRuleError(ValueError):
    """An AlarmRule outside CloudWatch's grammar."""


@dataclass(frozen=True)
class StateIs:
    state: str
    alarm: str  # name or ARN, as written


@dataclass(frozen=True)
class Constant:
    value: bool


@dataclass(frozen=True)
class Not:
    operand: Rule


@dataclass(frozen=True)
class Both:
    operator: str  # "AND" | "OR"
    left: Rule
    right: Rule


Rule = StateIs | Constant | Not | Both


def _tokens(text: str) -> list[str]:
    tokens, position = [], 0
    text = text.rstrip()
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None or match.end() == position:
            raise AlarmRuleError(f"cannot read {text[position : position + 20]!r} in the alarm rule")
        tokens.append(match.group("paren") or match.group("quoted") or match.group("word"))
        position = match.end()
    return tokens


def parse(text: str) -> Rule:
    tokens = _tokens(text)
    position = 0

    def peek() -> str | None:
        return tokens[position] if position < len(tokens) else None

    def take(expected: str | None = None) -> str:
        nonlocal position
        token = peek()
        if token is None or (expected is not None and token != expected):
            raise AlarmRuleError(f"expected {expected or 'more'} at token {position} of {text!r}")
        position += 1
        return token

    def either() -> Rule:
        rule = both()
        while peek() == "OR":
            take()
            rule = Both("OR", rule, both())
        return rule

    def both() -> Rule:
        rule = single()
        while peek() == "AND":
            take()
            rule = Both("AND", rule, single())
        return rule

    def single() -> Rule:
        word = take()
        if word == "NOT":
            return Not(single())
        if word == "(":
            rule = either()
            take(")")
            return rule
        if word in ("TRUE", "FALSE"):
            return Constant(word == "TRUE")
        if word in STATES:
            take("(")
            name = take()
            if name == ")":
                raise AlarmRuleError(f"{word}() names no alarm in {text!r}")
            take(")")
            return StateIs(word, name[1:-1].replace('\\"', '"') if name.startswith('"') else name)
        raise AlarmRuleError(f"unexpected {word!r} in the alarm rule {text!r}")

    rule = either()
    if peek() is not None:
        raise AlarmRuleError(f"unexpected {peek()!r} after the end of the alarm rule {text!r}")
    return rule


def references(rule: Rule) -> set[str]:
    """The alarms (names or ARNs, as written) the rule reads."""
    if isinstance(rule, StateIs):
        return {rule.alarm}
    if isinstance(rule, Not):
        return references(rule.operand)
    if isinstance(rule, Both):
        return references(rule.left) | references(rule.right)
    return set()


def holds(rule: Rule, state_of: Callable[[str], str | None]) -> bool:
    """Whether the rule is TRUE, given each referenced alarm's state (None: no such alarm)."""
    if isinstance(rule, StateIs):
        return state_of(rule.alarm) == rule.state
    if isinstance(rule, Constant):
        return rule.value
    if isinstance(rule, Not):
        return not holds(rule.operand, state_of)
    if rule.operator == "AND":
        return holds(rule.left, state_of) and holds(rule.right, state_of)
    return holds(rule.left, state_of) or holds(rule.right, state_of)
