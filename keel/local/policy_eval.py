"""A small evaluator of resource-policy statements with conditions (pure, no moto import).

Used for S3 bucket policies on the local server. It follows IAM's rules for what it supports: explicit
Deny wins over Allow; every operator of a Condition block and every key of an operator must match; a
key absent from the request matches only `...IfExists`, negated operators and `Null: true`.

Principals: like moto, only statements for everyone (`"*"` / `{"AWS": "*"}`) are evaluated; statements
naming specific principals (service principals, roles, NotPrincipal) are neutral, because the local
server cannot tell who the caller is.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Mapping
from typing import Any, Literal

Decision = Literal["Allow", "Deny"] | None
Context = Mapping[str, str]


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _wildcard(pattern: str, value: str, *, ignore_case: bool = False) -> bool:
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.fullmatch(regex, value, flags=re.IGNORECASE if ignore_case else 0) is not None


def _number(value: str) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _numeric(compare: Callable[[float, float], bool]) -> Callable[[str, str], bool]:
    def match(expected: str, actual: str) -> bool:
        a, e = _number(actual), _number(expected)
        return a is not None and e is not None and compare(a, e)

    return match


def _ip(expected: str, actual: str) -> bool:
    try:
        return ipaddress.ip_address(actual) in ipaddress.ip_network(expected, strict=False)
    except ValueError:
        return False


# operator → (match one expected value against the actual value, negated)
_OPERATORS: dict[str, tuple[Callable[[str, str], bool], bool]] = {
    "StringEquals": (lambda e, a: e == a, False),
    "StringNotEquals": (lambda e, a: e == a, True),
    "StringEqualsIgnoreCase": (lambda e, a: e.lower() == a.lower(), False),
    "StringNotEqualsIgnoreCase": (lambda e, a: e.lower() == a.lower(), True),
    "StringLike": (lambda e, a: _wildcard(e, a), False),
    "StringNotLike": (lambda e, a: _wildcard(e, a), True),
    "ArnEquals": (lambda e, a: _wildcard(e, a), False),
    "ArnLike": (lambda e, a: _wildcard(e, a), False),
    "ArnNotEquals": (lambda e, a: _wildcard(e, a), True),
    "ArnNotLike": (lambda e, a: _wildcard(e, a), True),
    "NumericEquals": (_numeric(lambda a, e: a == e), False),
    "NumericNotEquals": (_numeric(lambda a, e: a == e), True),
    "NumericLessThan": (_numeric(lambda a, e: a < e), False),
    "NumericLessThanEquals": (_numeric(lambda a, e: a <= e), False),
    "NumericGreaterThan": (_numeric(lambda a, e: a > e), False),
    "NumericGreaterThanEquals": (_numeric(lambda a, e: a >= e), False),
    "Bool": (lambda e, a: e.lower() == a.lower(), False),
    "IpAddress": (_ip, False),
    "NotIpAddress": (_ip, True),
}


def _condition_matches(operator: str, key: str, expected: Any, context: Context) -> bool:
    name = operator.split(":", 1)[-1]  # ForAnyValue:/ForAllValues: — request values are single here
    if_exists = name.endswith("IfExists")
    name = name.removesuffix("IfExists")
    actual = next((v for k, v in context.items() if k.lower() == key.lower()), None)
    expected_values = [str(v).lower() if isinstance(v, bool) else str(v) for v in _as_list(expected)]
    if name == "Null":
        return (actual is None) == (expected_values[0].lower() == "true")
    if name not in _OPERATORS:
        return False  # unsupported operator (e.g. Date*): the statement does not apply
    match, negated = _OPERATORS[name]
    if actual is None:
        return if_exists or negated
    hit = any(match(value, actual) for value in expected_values)
    return not hit if negated else hit


def conditions_match(conditions: Mapping[str, Mapping[str, Any]] | None, context: Context) -> bool:
    return all(
        _condition_matches(operator, key, expected, context)
        for operator, keys in (conditions or {}).items()
        for key, expected in keys.items()
    )


def _for_everyone(statement: Mapping[str, Any]) -> bool:
    if "NotPrincipal" in statement:
        return False
    principal = statement.get("Principal")
    if principal == "*":
        return True
    if isinstance(principal, Mapping):
        return "*" in _as_list(principal.get("AWS", []))
    return False


def _matches(patterns: Any, value: str, *, ignore_case: bool) -> bool:
    return any(_wildcard(str(p), value, ignore_case=ignore_case) for p in _as_list(patterns))


def statement_applies(statement: Mapping[str, Any], action: str, resource: str, context: Context) -> bool:
    if not _for_everyone(statement):
        return False
    if "Action" in statement and not _matches(statement["Action"], action, ignore_case=True):
        return False
    if "NotAction" in statement and _matches(statement["NotAction"], action, ignore_case=True):
        return False
    if "Resource" in statement and not _matches(statement["Resource"], resource, ignore_case=False):
        return False
    if "NotResource" in statement and _matches(statement["NotResource"], resource, ignore_case=False):
        return False
    return conditions_match(statement.get("Condition"), context)


def evaluate(policy: Mapping[str, Any], action: str, resource: str, context: Context) -> Decision:
    """Deny if any applicable statement denies, else Allow if one allows, else None (no opinion)."""
    decision: Decision = None
    for statement in _as_list(policy.get("Statement", [])):
        if statement_applies(statement, action, resource, context):
            if statement.get("Effect") == "Deny":
                return "Deny"
            decision = "Allow"
    return decision


__all__ = ["Context", "Decision", "conditions_match", "evaluate"]
