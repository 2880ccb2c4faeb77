"""Evaluate Keel's metric alarms against their metrics where no CloudWatch evaluates them (moto).

moto stores alarms and metrics but never evaluates an alarm: its state only changes through SetAlarmState.
This is the subset of CloudWatch's evaluation that Keel's single-metric, static-threshold alarms use
(Statistic, Period, EvaluationPeriods, DatapointsToAlarm, ComparisonOperator, TreatMissingData), acting
where the service would act: it reads the datapoints of the alarm's window and calls SetAlarmState. Metric
math, percentile (ExtendedStatistic) and anomaly-detection alarms are not evaluated (None is returned).
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Sequence
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


def evaluate_alarm(cloudwatch: Any, name: str, *, now: datetime | None = None) -> str | None:
    """Evaluate one alarm now and set its state as CloudWatch would; the state, or None if unsupported."""
    alarms = cloudwatch.describe_alarms(AlarmNames=[name]).get("MetricAlarms", [])
    if not alarms:
        raise KeyError(f"no metric alarm named {name!r}")
    alarm = alarms[0]
    comparison = alarm.get("ComparisonOperator", "")
    if alarm.get("Metrics") or alarm.get("ExtendedStatistic") or comparison not in _COMPARE:
        return None
    now = now or datetime.now(UTC)
    period, periods = int(alarm["Period"]), int(alarm["EvaluationPeriods"])
    statistic = alarm["Statistic"]
    points = cloudwatch.get_metric_statistics(
        Namespace=alarm["Namespace"],
        MetricName=alarm["MetricName"],
        Dimensions=alarm.get("Dimensions", []),
        StartTime=now - timedelta(seconds=period * periods),
        EndTime=now + timedelta(seconds=1),
        Period=period,
        Statistics=[statistic],
    )["Datapoints"]
    values = [float(p[statistic]) for p in sorted(points, key=lambda p: p["Timestamp"])][-periods:]
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
        cloudwatch.set_alarm_state(
            AlarmName=name,
            StateValue=state,
            StateReason=f"Keel local evaluation: {statistic} {values} {comparison} {alarm['Threshold']}",
        )
    return state
