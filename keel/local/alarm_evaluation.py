"""CloudWatch alarm evaluation in the local AWS (server side, on moto's CloudWatch backends).

moto stores alarms and metrics but never evaluates an alarm. Here, as CloudWatch does:
- a metric alarm is evaluated about once a minute (every period if shorter) from the stored datapoints of
  its last EvaluationPeriods periods (rolling windows ending now): Statistic or a pNN ExtendedStatistic of
  raw values, or metric math (`keel.local.metric_math`); DatapointsToAlarm and TreatMissingData decide;
- a composite alarm is evaluated whenever one of its children changes state (and once a minute):
  ALARM when its AlarmRule holds, else OK (`keel.local.alarm_rules`);
- a new state goes through the backend's `set_alarm_state`, the path SetAlarmState takes, so actions and
  the state change event follow (`keel.local.patches.cloudwatch_alarm_actions`). A SetAlarmState lasts
  until the alarm's next evaluation, as in AWS.
Anomaly-detection alarms (ANOMALY_DETECTION_BAND, LessThanLowerOrGreaterThanUpperThreshold) and metric
math beyond `metric_math`'s subset are not evaluated: they keep their state.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from moto.cloudwatch.models import Alarm, CloudWatchBackend, MetricAggregatedDatum, MetricDatum

from keel.local import alarm_rules, metric_math

LOGGER = logging.getLogger(__name__)
EVALUATED_AT = "keel_evaluated_at"  # attribute on moto's Alarm: when it was last evaluated (or set)
EVALUATION_EVERY_SECONDS = 60  # CloudWatch evaluates standard-resolution alarms every minute


def as_utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def aws_time(moment: datetime) -> str:
    """CloudWatch's timestamp format in events and notifications: 2019-10-01T13:56:40.985+0000."""
    moment = as_utc(moment)
    return f"{moment:%Y-%m-%dT%H:%M:%S}.{moment.microsecond // 1000:03d}+0000"


@dataclass(frozen=True)
class Series:
    """One value per period that has data, oldest first; `starts` are the periods' start times."""

    values: list[float]
    starts: list[datetime]
    statistic: str
    period: int
    start: datetime  # of the evaluated range


def _dimensions(dimensions: Iterable[Any]) -> frozenset[tuple[str, str]]:
    return frozenset((d.name, d.value) for d in dimensions)


def _statistic(data: list[Any], stat: str) -> float | None:
    singles = [d.value for d in data if isinstance(d, MetricDatum)]
    sets = [d for d in data if isinstance(d, MetricAggregatedDatum)]
    count = len(singles) + sum(s.sample_count for s in sets)
    if not count:
        return None
    if stat == "SampleCount":
        return float(count)
    if stat == "Sum":
        return float(sum(singles) + sum(s.sum for s in sets))
    if stat == "Average":
        return float(sum(singles) + sum(s.sum for s in sets)) / count
    if stat == "Minimum":
        return float(min([*singles, *(s.min for s in sets)]))
    if stat == "Maximum":
        return float(max([*singles, *(s.max for s in sets)]))
    if stat.startswith("p") and not sets:  # nearest rank over raw values
        rank = float(stat[1:]) / 100
        ordered = sorted(singles)
        return float(ordered[max(math.ceil(rank * len(ordered)) - 1, 0)])
    raise metric_math.UnsupportedExpressionError(f"statistic {stat!r} is not evaluated locally")


def _periods(
    backend: CloudWatchBackend,
    *,
    namespace: str,
    name: str,
    dimensions: frozenset[tuple[str, str]],
    stat: str,
    period: int,
    count: int,
    end: datetime,
) -> dict[datetime, float]:
    """The statistic per period of the `count` periods before `end` (rolling windows), where data exists."""
    start = end - timedelta(seconds=period * count)
    buckets: dict[int, list[Any]] = {}
    for datum in list(backend.get_all_metrics()):
        if datum.namespace != namespace or datum.name != name or _dimensions(datum.dimensions) != dimensions:
            continue
        at = as_utc(datum.timestamp)
        if start <= at < end:
            buckets.setdefault(int((at - start).total_seconds()) // period, []).append(datum)
    values = {}
    for index, data in sorted(buckets.items()):
        value = _statistic(data, stat)
        if value is not None:
            values[start + timedelta(seconds=index * period)] = value
    return values


def _truthy(value: Any) -> bool:
    return value is None or value is True or str(value).lower() == "true"


def series(backend: CloudWatchBackend, alarm: Alarm, now: datetime) -> Series | None:
    """The alarm's values over its evaluation range; None if it is not evaluated locally."""
    periods = int(alarm.evaluation_periods or 1)
    end = as_utc(now) + timedelta(seconds=1)  # a datapoint stamped `now` counts
    queries = alarm.metric_data_queries
    if queries:
        stats = [(q.id, q.metric_stat) for q in queries if q.metric_stat is not None]
        results = [q for q in queries if _truthy(q.return_data)]
        if len(results) != 1 or not results[0].expression or len(stats) != len(queries) - 1:
            return None
        expression = results[0].expression
        period = int(stats[0][1].period)
        by_id = {
            query_id: _periods(
                backend,
                namespace=stat.metric.namespace,
                name=stat.metric.metric_name,
                dimensions=_dimensions(stat.metric.dimensions),
                stat=stat.stat,
                period=period,
                count=periods,
                end=end,
            )
            for query_id, stat in stats
        }
        known = frozenset(by_id)
        starts, values = [], []
        for start in sorted({t for points in by_id.values() for t in points}):
            at = {i: p[start] for i, p in by_id.items() if start in p}
            try:
                values.append(metric_math.evaluate_expression(expression, at, known=known))
            except metric_math.MissingDatapointError:
                continue  # a metric the expression reads has no value in this period
            starts.append(start)
        return Series(values, starts, "metric math", period, end - timedelta(seconds=period * periods))
    statistic = alarm.statistic or alarm.extended_statistic
    if not statistic or not alarm.metric_name or not alarm.period:
        return None
    period = int(alarm.period)
    points = _periods(
        backend,
        namespace=alarm.namespace,
        name=alarm.metric_name,
        dimensions=_dimensions(alarm.dimensions),
        stat=statistic,
        period=period,
        count=periods,
        end=end,
    )
    starts = sorted(points)
    return Series(
        [points[t] for t in starts], starts, statistic, period, end - timedelta(seconds=period * periods)
    )


def _reason(alarm: Alarm, data: Series, state: str, needed: int) -> str:
    if not data.values:
        return f"Insufficient Data: {alarm.evaluation_periods} datapoints were unknown."
    shown = ", ".join(
        f"{v:g} ({t:%d/%m/%y %H:%M:%S})"
        for v, t in zip(reversed(data.values), reversed(data.starts), strict=True)
    )
    words = metric_math.COMPARE_WORDS[alarm.comparison_operator]
    compare = metric_math.COMPARE[alarm.comparison_operator]
    breaching = sum(1 for v in data.values if compare(v, float(alarm.threshold)))
    if state == "ALARM":
        return (
            f"Threshold Crossed: {breaching} out of the last {alarm.evaluation_periods} datapoints [{shown}] "
            f"{'was' if breaching == 1 else 'were'} {words} the threshold ({alarm.threshold:g}) "
            f"(minimum {needed} datapoint{'s' if needed > 1 else ''} for OK -> ALARM transition)."
        )
    return (
        f"Threshold Crossed: {len(data.values) - breaching} out of the last {alarm.evaluation_periods} "
        f"datapoints [{shown}] {'was' if len(data.values) - breaching == 1 else 'were'} not {words} the "
        f"threshold ({alarm.threshold:g}) (minimum {needed} datapoint{'s' if needed > 1 else ''} for "
        f"ALARM -> OK transition)."
    )


def _reason_data(alarm: Alarm, data: Series, now: datetime) -> str:
    document = {
        "version": "1.0",
        "queryDate": aws_time(now),
        "startDate": aws_time(data.start),
        "statistic": data.statistic,
        "period": data.period,
        "recentDatapoints": list(reversed(data.values)),
        "threshold": float(alarm.threshold),
        "evaluatedDatapoints": [
            {"timestamp": aws_time(t), "value": v}
            for v, t in zip(reversed(data.values), reversed(data.starts), strict=True)
        ],
    }
    return json.dumps(document)


def _set(backend: CloudWatchBackend, alarm: Alarm, state: str, reason: str, reason_data: str) -> None:
    if state != alarm.state_value:
        backend.set_alarm_state(alarm.name, reason, reason_data, state)


def evaluate_metric_alarm(backend: CloudWatchBackend, alarm: Alarm, now: datetime) -> str | None:
    """Evaluate one metric alarm at `now`, setting a changed state; the state, or None if not evaluated."""
    setattr(alarm, EVALUATED_AT, as_utc(now))
    if alarm.comparison_operator not in metric_math.COMPARE or alarm.threshold is None:
        return None
    try:
        data = series(backend, alarm, now)
    except metric_math.UnsupportedExpressionError as error:
        LOGGER.info("alarm %s is not evaluated locally: %s", alarm.name, error)
        return None
    if data is None:
        return None
    periods = int(alarm.evaluation_periods or 1)
    needed = int(alarm.datapoints_to_alarm or periods)
    state = metric_math.decide(
        data.values[-periods:],
        evaluation_periods=periods,
        datapoints_to_alarm=needed,
        threshold=float(alarm.threshold),
        comparison=alarm.comparison_operator,
        treat_missing=alarm.treat_missing_data or "missing",
        current=alarm.state_value,
    )
    _set(backend, alarm, state, _reason(alarm, data, state, needed), _reason_data(alarm, data, now))
    return alarm.state_value


def _lookup(backend: CloudWatchBackend, reference: str) -> Alarm | None:
    alarm = backend.alarms.get(reference)
    if alarm is None and reference.startswith("arn:"):
        alarm = backend.alarms.get(reference.split(":alarm:", 1)[-1])
    return alarm


def evaluate_composite(backend: CloudWatchBackend, alarm: Alarm, now: datetime) -> str | None:
    """Evaluate a composite alarm from its children's states; the state, or None if its rule is invalid."""
    setattr(alarm, EVALUATED_AT, as_utc(now))
    try:
        rule = alarm_rules.parse(alarm.rule or "")
    except alarm_rules.AlarmRuleError as error:
        LOGGER.warning("composite alarm %s: %s", alarm.name, error)
        return None

    def state_of(reference: str) -> str | None:
        child = _lookup(backend, reference)
        return child.state_value if child else None

    state = "ALARM" if alarm_rules.holds(rule, state_of) else "OK"
    if state == alarm.state_value:
        return state
    children = [c for c in (_lookup(backend, r) for r in sorted(alarm_rules.references(rule))) if c]
    triggering = [c for c in children if c.state_value == state] or children
    latest = max(triggering, key=lambda c: as_utc(c.state_updated_timestamp), default=None)
    reason = (
        f"{latest.alarm_arn} transitioned to {latest.state_value} at "
        f"{as_utc(latest.state_updated_timestamp):%A %d %B, %Y %H:%M:%S} UTC"
        if latest
        else f"The alarm rule evaluates to {state == 'ALARM'}"
    )
    reason_data = json.dumps(
        {
            "triggeringAlarms": [
                {
                    "arn": c.alarm_arn,
                    "state": {"value": c.state_value, "timestamp": aws_time(c.state_updated_timestamp)},
                }
                for c in triggering
            ]
        }
    )
    backend.set_alarm_state(alarm.name, reason, reason_data, state)
    return alarm.state_value


def composites_reading(backend: CloudWatchBackend, alarm: Alarm) -> list[Alarm]:
    """The composite alarms whose rule names `alarm` (by name or ARN)."""
    found = []
    for candidate in list(backend.alarms.values()):
        if not candidate.rule:
            continue
        try:
            named = alarm_rules.references(alarm_rules.parse(candidate.rule))
        except alarm_rules.AlarmRuleError:
            continue
        if alarm.name in named or alarm.alarm_arn in named:
            found.append(candidate)
    return found


def _due(alarm: Alarm, now: datetime) -> bool:
    every = min(int(alarm.period or EVALUATION_EVERY_SECONDS), EVALUATION_EVERY_SECONDS)
    last = getattr(alarm, EVALUATED_AT, None)
    return last is None or as_utc(now) - last >= timedelta(seconds=every)


def evaluate(
    backend: CloudWatchBackend, now: datetime, *, names: Iterable[str] | None = None, due_only: bool = False
) -> dict[str, str | None]:
    """Evaluate the backend's metric alarms (the named ones, or all; only those due if `due_only`), then
    its composite alarms; each evaluated alarm's state (None: not evaluated locally)."""
    wanted = set(names) if names is not None else None
    missing = (wanted or set()) - set(backend.alarms)
    if missing:
        raise KeyError(f"no alarm named {', '.join(sorted(missing))}")
    alarms = [a for a in list(backend.alarms.values()) if wanted is None or a.name in wanted]
    states: dict[str, str | None] = {}
    for alarm in alarms:
        if not alarm.rule and (not due_only or _due(alarm, now)):
            states[alarm.name] = evaluate_metric_alarm(backend, alarm, now)
    composites = alarms if wanted is not None else list(backend.alarms.values())
    for alarm in composites:
        if alarm.rule and (not due_only or _due(alarm, now)):
            states[alarm.name] = evaluate_composite(backend, alarm, now)
    return states


def backends() -> Iterator[tuple[str, str, CloudWatchBackend]]:
    from moto.cloudwatch.models import cloudwatch_backends

    for account, regions in list(cloudwatch_backends.items()):
        for region, backend in list(regions.items()):
            yield account, region, backend


def evaluate_everywhere(now: datetime, *, due_only: bool) -> dict[str, str | None]:
    """Every account's and region's alarms; the states of the alarms evaluated, by account/region/name."""
    states: dict[str, str | None] = {}
    for account, region, backend in backends():
        for name, state in evaluate(backend, now, due_only=due_only).items():
            states[f"{account}/{region}/{name}"] = state
    return states
