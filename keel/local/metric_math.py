"""CloudWatch's rules for a metric alarm's state, as pure functions (no moto): the comparison, the M-of-N
decision with TreatMissingData, and the metric-math subset Keel's alarms use."""

from __future__ import annotations

import ast
import math
import operator
from collections.abc import Callable, Mapping, Sequence

COMPARE: dict[str, Callable[[float, float], bool]] = {
    "GreaterThanThreshold": operator.gt,
    "GreaterThanOrEqualToThreshold": operator.ge,
    "LessThanThreshold": operator.lt,
    "LessThanOrEqualToThreshold": operator.le,
}
# How CloudWatch words the comparison in a state reason.
COMPARE_WORDS = {
    "GreaterThanThreshold": "greater than",
    "GreaterThanOrEqualToThreshold": "greater than or equal to",
    "LessThanThreshold": "less than",
    "LessThanOrEqualToThreshold": "less than or equal to",
}


def decide(
    values: Sequence[float],
    *,
    evaluation_periods: int,
    datapoints_to_alarm: int,
    threshold: float,
    comparison: str,
    treat_missing: str,
    current: str,
) -> str:
    """The state CloudWatch sets for the datapoints of the last `evaluation_periods` periods (M of N:
    `datapoints_to_alarm` breaching ones make ALARM; missing periods count as TreatMissingData says)."""
    breaching = sum(1 for v in values if COMPARE[comparison](v, threshold))
    missing = max(evaluation_periods - len(values), 0)
    if breaching >= datapoints_to_alarm:
        return "ALARM"
    if not values:
        return {"breaching": "ALARM", "notBreaching": "OK", "ignore": current}.get(
            treat_missing, "INSUFFICIENT_DATA"
        )
    if treat_missing == "breaching" and breaching + missing >= datapoints_to_alarm:
        return "ALARM"
    return "OK"


class UnsupportedExpressionError(ValueError):
    """A metric-math expression outside the subset evaluated locally."""


class MissingDatapointError(LookupError):
    """A metric the expression reads has no datapoint in this period: the period has no value."""


_OPERATORS: dict[type[ast.AST], Callable[[float, float], float]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: lambda a, b: a / b if b else math.nan,
}
_COMPARISONS: dict[type[ast.AST], Callable[[float, float], bool]] = {
    ast.Gt: operator.gt,
    ast.GtE: operator.ge,
    ast.Lt: operator.lt,
    ast.LtE: operator.le,
    ast.Eq: operator.eq,
    ast.NotEq: operator.ne,
}


def names_in(expression: str) -> set[str]:
    """The metric ids an expression reads (functions excluded)."""
    try:
        tree = ast.parse(expression.strip(), mode="eval")
    except SyntaxError as error:
        raise UnsupportedExpressionError(f"cannot parse {expression!r}: {error.msg}") from None
    called = {id(n.func) for n in ast.walk(tree) if isinstance(n, ast.Call)}
    return {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and id(n) not in called}


def evaluate_expression(
    expression: str, values: Mapping[str, float], *, known: frozenset[str] | None = None
) -> float:
    """CloudWatch metric math, the subset Keel's alarms use: numbers, metric ids, + - * /, comparisons
    (1 or 0) and IF(condition, a, b). A `known` id without a value raises MissingDatapointError."""
    try:
        tree = ast.parse(expression.strip(), mode="eval")
    except SyntaxError as error:
        raise UnsupportedExpressionError(f"cannot parse {expression!r}: {error.msg}") from None

    def value(node: ast.AST) -> float:
        if isinstance(node, ast.Constant) and isinstance(node.value, int | float):
            return float(node.value)
        if isinstance(node, ast.Name):
            if node.id in values:
                return values[node.id]
            if known is not None and node.id in known:
                raise MissingDatapointError(node.id)
            raise UnsupportedExpressionError(f"{expression!r}: no datapoint for {node.id!r}")
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            return -value(node.operand)
        if isinstance(node, ast.BinOp) and type(node.op) in _OPERATORS:
            return _OPERATORS[type(node.op)](value(node.left), value(node.right))
        if isinstance(node, ast.Compare) and len(node.ops) == 1 and type(node.ops[0]) in _COMPARISONS:
            return float(_COMPARISONS[type(node.ops[0])](value(node.left), value(node.comparators[0])))
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id == "IF"
            and len(node.args) == 3
        ):
            condition, then, otherwise = node.args
            return value(then) if value(condition) else value(otherwise)
        raise UnsupportedExpressionError(f"{expression!r}: {ast.dump(node)[:80]} is not evaluated locally")

    return value(tree.body)
