"""Performance trigger: alarms by Keel's naming convention start one retraining; cool-down; schedule."""

from __future__ import annotations

import json

import pytest

from keel.feedback.events import alarm_state_change_event, scheduled_event
from keel.feedback.names import feedback_accuracy_alarm_name
from keel.naming import QUARANTINE_PREFIX, AlarmKind, alarm_name
from tests.unit.feedback.conftest import Aws, FlakyStarter

SCHEDULE = "arn:aws:events:us-east-1:123456789012:rule/keel-local-retrain"


def alarm_event(aws: Aws, name: str, state: str = "ALARM", event_id: str | None = None) -> dict:
    alarm = {"AlarmName": name, "StateValue": state, "StateReason": "Threshold Crossed: PSI 0.31 > 0.2"}
    return alarm_state_change_event(alarm, event_id=event_id, time=aws.clock())


def test_a_drift_alarm_starts_retraining_with_the_alarm_as_reason(aws: Aws) -> None:
    trigger = aws.performance_trigger()
    name = alarm_name(aws.config, AlarmKind.DRIFT, "alcohol")
    result = trigger.handle(alarm_event(aws, name))
    assert result["status"] == "started"
    [execution] = aws.executions()
    parameters = aws.parameters(execution["PipelineExecutionArn"])
    assert parameters["TriggerReason"].startswith(f"alarm {name}: Threshold Crossed")
    record = json.loads(aws.read(trigger.settings.reports_bucket, result["trigger_record"].split("/", 3)[3]))
    assert record["trigger"]["source"] == "alarm"
    assert record["trigger"]["details"]["alarm_name"] == name


def test_cool_down_keeps_an_alarm_storm_to_one_retraining(aws: Aws) -> None:
    trigger = aws.performance_trigger(retrain_cooldown_seconds=3600)
    names = [alarm_name(aws.config, AlarmKind.DRIFT, f"f{i}") for i in range(5)]
    names.append(feedback_accuracy_alarm_name(aws.config))
    outcomes = [trigger.handle(alarm_event(aws, name))["status"] for name in names]
    assert outcomes == ["started"] + ["suppressed"] * 5
    aws.clock.advance(3601)
    assert trigger.handle(alarm_event(aws, names[0]))["status"] == "started"
    assert len(aws.executions()) == 2


def test_duplicate_deliveries_start_exactly_one_execution(aws: Aws) -> None:
    trigger = aws.performance_trigger(retrain_cooldown_seconds=0)
    event = alarm_event(aws, alarm_name(aws.config, AlarmKind.MODEL_QUALITY, "accuracy"))
    assert [trigger.handle(event)["status"] for _ in range(4)] == ["started"] * 4
    assert len(aws.executions()) == 1


def test_throttled_start_releases_the_cool_down_and_the_retry_starts(aws: Aws) -> None:
    flaky = FlakyStarter(aws.adapters().starter, failures=1)
    trigger = aws.performance_trigger(aws.adapters(starter=flaky), retrain_cooldown_seconds=3600)
    event = alarm_event(aws, alarm_name(aws.config, AlarmKind.DRIFT, "ph"))
    with pytest.raises(Exception, match="ThrottlingException"):
        trigger.handle(event)
    assert trigger.handle(event)["status"] == "started"
    assert len(aws.executions()) == 1


@pytest.mark.parametrize(
    ("name", "state"),
    [("keel-local-system-data-trigger-errors", "ALARM"), ("other-drift-x", "ALARM"), (None, "OK")],
)
def test_other_alarms_and_states_are_ignored(aws: Aws, name: str | None, state: str) -> None:
    trigger = aws.performance_trigger()
    name = name or alarm_name(aws.config, AlarmKind.DRIFT, "alcohol")
    assert trigger.handle(alarm_event(aws, name, state))["status"] == "ignored"
    assert aws.executions() == []


def test_the_schedule_retrains_regardless_of_the_cool_down(aws: Aws) -> None:
    trigger = aws.performance_trigger(retrain_cooldown_seconds=3600)
    assert (
        trigger.handle(alarm_event(aws, alarm_name(aws.config, AlarmKind.DRIFT, "x")))["status"] == "started"
    )
    result = trigger.handle(scheduled_event(SCHEDULE, time=aws.clock()))
    assert result["status"] == "started"
    assert aws.parameters(result["execution_arn"])["TriggerReason"] == "scheduled retraining"
    # ... and it restarts the cool-down for alarms
    assert (
        trigger.handle(alarm_event(aws, alarm_name(aws.config, AlarmKind.DRIFT, "y")))["status"]
        == "suppressed"
    )


def test_malformed_events_are_kept_with_the_reason(aws: Aws) -> None:
    trigger = aws.performance_trigger()
    assert trigger.handle({"source": "aws.cloudwatch", "detail": {"alarmName": 3}})["status"] == "quarantined"
    [note] = aws.keys(trigger.settings.reports_bucket, QUARANTINE_PREFIX)
    assert json.loads(aws.read(trigger.settings.reports_bucket, note))["reason"].startswith("not an alarm")
