"""CloudWatch alarm actions: a state change (SetAlarmState, as Keel's local alarm evaluation sets states)
sends the `CloudWatch Alarm State Change` event to the default bus and publishes the alarm notification to
the SNS topics of the new state's actions, as CloudWatch does."""

from __future__ import annotations

import json
import logging
from typing import Any

from moto.cloudwatch.models import Alarm, CloudWatchBackend
from moto.sns.models import sns_backends

from keel.local.extensions import Extension
from keel.local.service_events import emit

LOGGER = logging.getLogger(__name__)
# Region names in CloudWatch's notification subject (the ones Keel's environments use; else the code).
REGION_NAMES = {
    "us-east-1": "US East (N. Virginia)",
    "us-east-2": "US East (Ohio)",
    "us-west-2": "US West (Oregon)",
    "eu-west-1": "EU (Ireland)",
    "eu-central-1": "EU (Frankfurt)",
}


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
        "AlarmConfigurationUpdatedTimestamp": alarm.configuration_updated_timestamp,
        "NewStateValue": alarm.state_value,
        "NewStateReason": alarm.state_reason,
        "StateChangeTime": alarm.state_updated_timestamp.isoformat(timespec="milliseconds"),
        "Region": REGION_NAMES.get(region, region),
        "AlarmArn": alarm.alarm_arn,
        "OldStateValue": old_state,
        "OKActions": list(alarm.ok_actions),
        "AlarmActions": list(alarm.alarm_actions or []),
        "InsufficientDataActions": list(alarm.insufficient_data_actions),
        "Trigger": {k: v for k, v in trigger.items() if v is not None} if alarm.metric_name else {},
    }
    return subject[:99], json.dumps(message, default=str)


def state_change_detail(alarm: Alarm, old_state: str) -> dict[str, Any]:
    """The detail of CloudWatch's `CloudWatch Alarm State Change` event."""
    return {
        "alarmName": alarm.name,
        "state": {
            "value": alarm.state_value,
            "reason": alarm.state_reason,
            "timestamp": alarm.state_updated_timestamp.isoformat(timespec="milliseconds"),
        },
        "previousState": {"value": old_state, "reason": ""},
        "configuration": {"description": alarm.description or ""},
    }


def actions_for(alarm: Alarm) -> list[str]:
    return list(
        {
            "ALARM": alarm.alarm_actions or [],
            "OK": alarm.ok_actions,
            "INSUFFICIENT_DATA": alarm.insufficient_data_actions,
        }.get(alarm.state_value, [])
    )


def install() -> None:
    original = CloudWatchBackend.set_alarm_state

    def set_alarm_state(
        self: CloudWatchBackend, alarm_name: str, reason: str, reason_data: str, state_value: str
    ) -> None:
        alarm = self.alarms.get(alarm_name)
        old_state = alarm.state_value if alarm else None
        original(self, alarm_name, reason, reason_data, state_value)
        if alarm is None or old_state == state_value or not alarm.actions_enabled:
            return
        emit(
            self.account_id,
            self.region_name,
            source="aws.cloudwatch",
            detail_type="CloudWatch Alarm State Change",
            detail=state_change_detail(alarm, str(old_state)),
            resources=[alarm.alarm_arn],
        )
        subject, message = notification(alarm, str(old_state), self.account_id, self.region_name)
        for arn in actions_for(alarm):
            parts = arn.split(":")
            if len(parts) < 6 or parts[2] != "sns":
                continue  # Auto Scaling, EC2 and Systems Manager actions are not emulated
            try:
                sns_backends[parts[4]][parts[3]].publish(message, arn=arn, subject=subject)
            except Exception:  # CloudWatch never fails a state change for an action's sake
                LOGGER.warning("alarm %s: notification to %s failed", alarm_name, arn, exc_info=True)

    CloudWatchBackend.set_alarm_state = set_alarm_state  # type: ignore[method-assign]


EXTENSION = Extension(
    name="cloudwatch-alarm-actions",
    kind="fix",
    what="an alarm state change sends the `CloudWatch Alarm State Change` event to the default bus and "
    "publishes CloudWatch's alarm notification (subject and JSON message) to the SNS topics of the new "
    "state's actions (AlarmActions, OKActions, InsufficientDataActions)",
    why="moto stored alarm actions but never ran them, and sent no state change events: no alert reached "
    "the alert topic and no alarm reached the performance trigger locally",
    upstream=True,
    install=install,
)
