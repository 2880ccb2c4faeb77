"""CloudWatch alarm actions: a state change (SetAlarmState, or the local AWS's own evaluation, which goes
through the same path) sends the `CloudWatch Alarm State Change` event to the default bus, publishes the
alarm notification to the SNS topics of the new state's actions, and re-evaluates the composite alarms that
read the alarm, as CloudWatch does. A state set by SetAlarmState lasts until the alarm's next evaluation."""

from __future__ import annotations

import json
import logging
import threading
from typing import Any

from moto.cloudwatch.models import Alarm, CloudWatchBackend
from moto.sns.models import sns_backends

from keel.local import alarm_evaluation
from keel.local.alarm_evaluation import aws_time
from keel.local.extensions import Extension
from keel.local.service_events import emit
from keel.local.timekeeper import CLOCK

LOGGER = logging.getLogger(__name__)
# Region names in CloudWatch's notification subject (the ones Keel's environments use; else the code).
REGION_NAMES = {
    "us-east-1": "US East (N. Virginia)",
    "us-east-2": "US East (Ohio)",
    "us-west-2": "US West (Oregon)",
    "eu-west-1": "EU (Ireland)",
    "eu-central-1": "EU (Frankfurt)",
}
MAX_COMPOSITE_DEPTH = 10  # AWS refuses cycles in composite rules; locally a cycle stops here
_DEPTH = threading.local()


def notification(alarm: Alarm, old_state: str, account_id: str, region: str) -> tuple[str, str]:
    """(subject, message) of CloudWatch's alarm notification to SNS."""
    subject = f'{alarm.state_value}: "{alarm.name}" in {REGION_NAMES.get(region, region)}'
    trigger: dict[str, Any] = {
        "MetricName": alarm.metric_name,
        "Namespace": alarm.namespace,
        "StatisticType": "ExtendedStatistic" if alarm.extended_statistic else "Statistic",
        "Statistic": (alarm.statistic or "").upper() or None,
        "Unit": alarm.unit,
        "Dimensions": [{"name": d.name, "value": d.value} for d in alarm.dimensions or []],
        "Period": alarm.period,
        "EvaluationPeriods": alarm.evaluation_periods,
        "ComparisonOperator": alarm.comparison_operator,
        "Threshold": alarm.threshold,
        "TreatMissingData": alarm.treat_missing_data or "missing",
    }
    message = {
        "AlarmName": alarm.name,
        "AlarmDescription": alarm.description,
        "AWSAccountId": account_id,
        "AlarmConfigurationUpdatedTimestamp": aws_time(alarm.configuration_updated_timestamp),
        "NewStateValue": alarm.state_value,
        "NewStateReason": alarm.state_reason,
        "StateChangeTime": aws_time(alarm.state_updated_timestamp),
        "Region": REGION_NAMES.get(region, region),
        "AlarmArn": alarm.alarm_arn,
        "OldStateValue": old_state,
        "OKActions": list(alarm.ok_actions),
        "AlarmActions": list(alarm.alarm_actions or []),
        "InsufficientDataActions": list(alarm.insufficient_data_actions),
        "Trigger": {k: v for k, v in trigger.items() if v is not None} if alarm.metric_name else {},
    }
    if alarm.rule:
        message["AlarmRule"] = alarm.rule
    return subject[:99], json.dumps(message, default=str)


def _metric_stat(metric: Any, period: Any, stat: Any) -> dict[str, Any]:
    return {
        "metric": {
            "dimensions": {d.name: d.value for d in metric.dimensions or []},
            "name": metric.metric_name,
            "namespace": metric.namespace,
        },
        "period": int(period) if period is not None else None,
        "stat": stat,
    }


def configuration(alarm: Alarm) -> dict[str, Any]:
    """The `configuration` of the state change event: the composite's rule, or the alarm's metrics."""
    if alarm.rule:
        return {"alarmRule": alarm.rule, "description": alarm.description or ""}
    if alarm.metric_data_queries:
        metrics = []
        for query in alarm.metric_data_queries:
            entry: dict[str, Any] = {"id": query.id, "returnData": query.return_data in (None, True, "true")}
            if query.expression:
                entry["expression"] = query.expression
            if query.label:
                entry["label"] = query.label
            if query.metric_stat:
                stat = query.metric_stat
                entry["metricStat"] = _metric_stat(stat.metric, stat.period, stat.stat)
            metrics.append(entry)
    else:
        metrics = [
            {
                "id": "m1",
                "metricStat": _metric_stat(alarm, alarm.period, alarm.statistic or alarm.extended_statistic),
                "returnData": True,
            }
        ]
    return {"description": alarm.description or "", "metrics": metrics}


def _state(value: str, reason: str, reason_data: str | None, timestamp: Any) -> dict[str, Any]:
    state = {"value": value, "reason": reason or "", "timestamp": aws_time(timestamp)}
    if reason_data and reason_data != "{}":
        state["reasonData"] = reason_data
    return state


def state_change_detail(alarm: Alarm, previous: dict[str, Any]) -> dict[str, Any]:
    """The detail of CloudWatch's `CloudWatch Alarm State Change` event."""
    return {
        "alarmName": alarm.name,
        "state": _state(
            alarm.state_value, alarm.state_reason, alarm.state_reason_data, alarm.state_updated_timestamp
        ),
        "previousState": previous,
        "configuration": configuration(alarm),
    }


def actions_for(alarm: Alarm) -> list[str]:
    return list(
        {
            "ALARM": alarm.alarm_actions or [],
            "OK": alarm.ok_actions,
            "INSUFFICIENT_DATA": alarm.insufficient_data_actions,
        }.get(alarm.state_value, [])
    )


def _notify(backend: CloudWatchBackend, alarm: Alarm, old_state: str) -> None:
    subject, message = notification(alarm, old_state, backend.account_id, backend.region_name)
    for arn in actions_for(alarm):
        parts = arn.split(":")
        if len(parts) < 6 or parts[2] != "sns":
            continue  # Auto Scaling, EC2 and Systems Manager actions are not emulated
        try:
            sns_backends[parts[4]][parts[3]].publish(message, arn=arn, subject=subject)
        except Exception:  # CloudWatch never fails a state change for an action's sake
            LOGGER.warning("alarm %s: notification to %s failed", alarm.name, arn, exc_info=True)


def _follow(backend: CloudWatchBackend, alarm: Alarm) -> None:
    """The composite alarms reading `alarm` are evaluated now, as CloudWatch does on a child's change."""
    depth = getattr(_DEPTH, "value", 0)
    if depth >= MAX_COMPOSITE_DEPTH:
        LOGGER.warning("composite alarms around %s: more than %d levels (a cycle?)", alarm.name, depth)
        return
    _DEPTH.value = depth + 1
    try:
        for composite in alarm_evaluation.composites_reading(backend, alarm):
            alarm_evaluation.evaluate_composite(backend, composite, CLOCK.now())
    finally:
        _DEPTH.value = depth


def install() -> None:
    original = CloudWatchBackend.set_alarm_state

    def set_alarm_state(
        self: CloudWatchBackend, alarm_name: str, reason: str, reason_data: str, state_value: str
    ) -> None:
        alarm = self.alarms.get(alarm_name)
        previous = (
            _state(
                alarm.state_value, alarm.state_reason, alarm.state_reason_data, alarm.state_updated_timestamp
            )
            if alarm
            else None
        )
        original(self, alarm_name, reason, reason_data, state_value)
        if alarm is None or previous is None:
            return
        setattr(alarm, alarm_evaluation.EVALUATED_AT, CLOCK.now())  # lasts until the next evaluation
        if previous["value"] == state_value:
            return
        # EventBridge gets every state change; ActionsEnabled governs the actions only.
        emit(
            self.account_id,
            self.region_name,
            source="aws.cloudwatch",
            detail_type="CloudWatch Alarm State Change",
            detail=state_change_detail(alarm, previous),
            resources=[alarm.alarm_arn],
        )
        if alarm.actions_enabled:
            _notify(self, alarm, str(previous["value"]))
        _follow(self, alarm)

    CloudWatchBackend.set_alarm_state = set_alarm_state  # type: ignore[method-assign]


EXTENSION = Extension(
    name="cloudwatch-alarm-actions",
    kind="fix",
    what="an alarm state change sends the `CloudWatch Alarm State Change` event to the default bus "
    "(state and previousState with reason, reasonData and `+0000` timestamps; configuration with the "
    "metrics or the composite's rule), publishes CloudWatch's alarm notification (subject and JSON "
    "message) to the SNS topics of the new state's actions when actions are enabled, and re-evaluates "
    "the composite alarms that read the alarm",
    why="moto stored alarm actions but never ran them, and sent no state change events: no alert reached "
    "the alert topic and no alarm reached the performance trigger locally",
    upstream=True,
    install=install,
)
