"""Evaluate Keel's metric alarms against their metrics where no CloudWatch evaluates them (moto).

moto stores alarms and metrics but never evaluates an alarm: its state only changes through SetAlarmState.
This is the subset of CloudWatch's evaluation that Keel's single-metric, static-threshold alarms use
(Statistic, Period, EvaluationPeriods, DatapointsToAlarm, ComparisonOperator, TreatMissingData) and metric
math over MetricStat queries with `evaluate_expression`'s subset, acting where the service would act: it
reads the datapoints of the alarm's window and calls SetAlarmState. Percentile (ExtendedStatistic) and
anomaly-detection alarms are not evaluated (None is returned).
"""

from __future__ import annotations

import ast
import math
import operator
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

_COMPARE: dict[str, Callable[[float, float], bool]] = {
    "GreaterThanThreshold": operator.gt,
    "GreaterThanOrEqualToThreshold": operator.ge,
    "LessThanThreshold": operator.lt,
    "LessThanOrEqualToThreshold": operator.le,
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
    """The state CloudWatch would set for the datapoints of the last `evaluation_periods` periods."""
    breaching = sum(1 for v in values if _COMPARE[comparison](v, threshold))
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


def evaluate_expression(expression: str, values: Mapping[str, float]) -> float:
    """CloudWatch metric math, the subset Keel's alarms use: numbers, metric ids, + - * /, comparisons
    (1 or 0) and IF(condition, a, b)."""
    try:
        tree = ast.parse(expression.strip(), mode="eval")
    except SyntaxError as error:
        raise UnsupportedExpressionError(f"cannot parse {expression!r}: {error.msg}") from None

    def value(node: ast.AST) -> float:
        if isinstance(node, ast.Constant) and isinstance(node.value, int | float):
            return float(node.value)
        if isinstance(node, ast.Name):
            if node.id not in values:
                raise UnsupportedExpressionError(f"{expression!r}: no datapoint for {node.id!r}")
            return values[node.id]
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


def _datapoints(
    cloudwatch: Any, metric: Mapping[str, Any], stat: str, period: int, start: datetime, end: datetime
) -> dict[datetime, float]:
    points = cloudwatch.get_metric_statistics(
        Namespace=metric["Namespace"],
        MetricName=metric["MetricName"],
        Dimensions=metric.get("Dimensions", []),
        StartTime=start,
        EndTime=end,
        Period=period,
        Statistics=[stat],
    )["Datapoints"]
    return {p["Timestamp"]: float(p[stat]) for p in points}


def _series(cloudwatch: Any, alarm: Mapping[str, Any], now: datetime) -> list[float] | None:
    """The alarm's values per period over its evaluation window, oldest first; None if not evaluated here."""
    periods = int(alarm["EvaluationPeriods"])
    if alarm.get("Metrics"):
        queries = alarm["Metrics"]
        stats = [q for q in queries if "MetricStat" in q]
        [result] = [q for q in queries if q.get("ReturnData", True)] or [None]
        if result is None or "Expression" not in result or len(stats) != len(queries) - 1:
            return None
        period = int(stats[0]["MetricStat"]["Period"])
        start, end = now - timedelta(seconds=period * periods), now + timedelta(seconds=1)
        by_id = {
            q["Id"]: _datapoints(
                cloudwatch, q["MetricStat"]["Metric"], q["MetricStat"]["Stat"], period, start, end
            )
            for q in stats
        }
        times = sorted({t for points in by_id.values() for t in points})
        try:
            values = [
                evaluate_expression(result["Expression"], {i: p[t] for i, p in by_id.items() if t in p})
                for t in times
            ]
        except UnsupportedExpressionError:
            return None
        return values[-periods:]
    if alarm.get("ExtendedStatistic") or "Statistic" not in alarm:
        return None
    period, statistic = int(alarm["Period"]), alarm["Statistic"]
    points = _datapoints(
        cloudwatch,
        alarm,
        statistic,
        period,
        now - timedelta(seconds=period * periods),
        now + timedelta(seconds=1),
    )
    return [points[t] for t in sorted(points)][-periods:]


def evaluate_alarm(cloudwatch: Any, name: str, *, now: datetime | None = None) -> str | None:
    """Evaluate one alarm now and set its state as CloudWatch would; the state, or None if unsupported
    (percentiles, anomaly detection, metric math beyond `evaluate_expression`)."""
    alarms = cloudwatch.describe_alarms(AlarmNames=[name]).get("MetricAlarms", [])
    if not alarms:
        raise KeyError(f"no metric alarm named {name!r}")
    alarm = alarms[0]
    comparison = alarm.get("ComparisonOperator", "")
    if comparison not in _COMPARE:
        return None
    values = _series(cloudwatch, alarm, now or datetime.now(UTC))
    if values is None:
        return None
    periods = int(alarm["EvaluationPeriods"])
    state = decide(
        values,
        evaluation_periods=periods,
        datapoints_to_alarm=int(alarm.get("DatapointsToAlarm") or periods),
        threshold=float(alarm["Threshold"]),
        comparison=comparison,
        treat_missing=alarm.get("TreatMissingData", "missing"),
        current=alarm["StateValue"],
    )
    if state != alarm["StateValue"]:
        what = alarm.get("Statistic") or "metric math"
        cloudwatch.set_alarm_state(
            AlarmName=name,
            StateValue=state,
            StateReason=f"Keel local evaluation: {what} {values} {comparison} {alarm['Threshold']}",
        )
    return state
