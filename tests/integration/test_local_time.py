"""Time passes in Keel's local AWS: CloudWatch evaluates alarms from stored metrics (static thresholds,
metric math, TreatMissingData, M of N, composites following their children) and EventBridge fires
scheduled rules on the local clock; tests move the clock and ask for evaluations instead of sleeping
(`keel.local.clock`)."""

from __future__ import annotations

import json
import os
import subprocess
import uuid
from collections.abc import Callable
from typing import Any

import pytest

from keel.local import clock
from keel.local.lambda_events import take_events

pytestmark = pytest.mark.integration
PERIOD = 60


def _name(kind: str) -> str:
    return f"keel-time-{kind}-{uuid.uuid4().hex[:8]}"


@pytest.fixture
def cloudwatch(moto_server: Any) -> Any:
    return moto_server.client("cloudwatch")


def _alarm(cloudwatch: Any, name: str, metric: str, **overrides: Any) -> None:
    cloudwatch.put_metric_alarm(
        **{
            "AlarmName": name,
            "Namespace": "KeelTime",
            "MetricName": metric,
            "Statistic": "Average",
            "Period": PERIOD,
            "EvaluationPeriods": 1,
            "Threshold": 5.0,
            "ComparisonOperator": "GreaterThanThreshold",
            **overrides,
        }
    )


def _put(cloudwatch: Any, metric: str, value: float) -> None:
    """A datapoint without Timestamp: CloudWatch stamps it with its (the local) clock."""
    cloudwatch.put_metric_data(Namespace="KeelTime", MetricData=[{"MetricName": metric, "Value": value}])


def _state(cloudwatch: Any, name: str) -> dict[str, Any]:
    answer = cloudwatch.describe_alarms(AlarmNames=[name], AlarmTypes=["MetricAlarm", "CompositeAlarm"])
    [alarm] = answer["MetricAlarms"] + answer["CompositeAlarms"]
    return dict(alarm)


@pytest.fixture
def function_of(moto_server: Any) -> Callable[[dict[str, Any]], str]:
    """A default-bus rule routing matching events to a (not deployed) Lambda function; its name."""
    events = moto_server.client("events")

    def make(pattern: dict[str, Any]) -> str:
        name = _name("fn")
        events.put_rule(Name=name, EventPattern=json.dumps(pattern))
        arn = f"arn:aws:lambda:{moto_server.region}:{moto_server.account_id}:function:{name}"
        events.put_targets(Rule=name, Targets=[{"Id": "fn", "Arn": arn}])
        return name

    return make


def _kept(moto_server: Any, function: str) -> list[dict[str, Any]]:
    kept = take_events(
        moto_server.endpoint_url, function, account=moto_server.account_id, region=moto_server.region
    )
    return [k["event"] for k in kept]


def test_a_static_threshold_alarm_follows_its_metric(
    moto_server: Any, cloudwatch: Any, function_of: Callable[[dict[str, Any]], str]
) -> None:
    name, metric = _name("static"), _name("m")
    function = function_of({"source": ["aws.cloudwatch"], "detail": {"alarmName": [name]}})
    _alarm(cloudwatch, name, metric)
    _put(cloudwatch, metric, 9.0)
    assert clock.evaluate_alarms(moto_server.endpoint_url, [name]) == {name: "ALARM"}
    alarm = _state(cloudwatch, name)
    assert alarm["StateValue"] == "ALARM"
    assert alarm["StateReason"].startswith("Threshold Crossed: 1 out of the last 1 datapoints [9 (")
    assert json.loads(alarm["StateReasonData"])["recentDatapoints"] == [9.0]

    # A minute later the 9 is outside the alarm's window: the advance's evaluation finds no data.
    clock.advance(moto_server.endpoint_url, PERIOD)
    assert _state(cloudwatch, name)["StateValue"] == "INSUFFICIENT_DATA"
    _put(cloudwatch, metric, 2.0)
    assert clock.evaluate_alarm(moto_server.endpoint_url, name) == "OK"

    [to_alarm, to_unknown, to_ok] = _kept(moto_server, function)
    assert to_unknown["detail"]["state"]["value"] == "INSUFFICIENT_DATA"
    assert to_alarm["detail"]["previousState"]["value"] == "INSUFFICIENT_DATA"
    state = to_alarm["detail"]["state"]
    assert state["value"] == "ALARM" and state["timestamp"].endswith("+0000")
    assert json.loads(state["reasonData"])["threshold"] == 5.0
    assert to_alarm["detail"]["configuration"]["metrics"][0]["metricStat"]["metric"]["name"] == metric
    assert (to_ok["detail"]["previousState"]["value"], to_ok["detail"]["state"]["value"]) == (
        "INSUFFICIENT_DATA",
        "OK",
    )


def test_a_metric_math_alarm_reads_its_expression(moto_server: Any, cloudwatch: Any) -> None:
    name, errors, calls = _name("math"), _name("errors"), _name("calls")

    def stat(metric: str) -> dict[str, Any]:
        return {"Metric": {"Namespace": "KeelTime", "MetricName": metric}, "Period": PERIOD, "Stat": "Sum"}

    cloudwatch.put_metric_alarm(
        AlarmName=name,
        Metrics=[
            {"Id": "rate", "Expression": "IF(calls > 0, errors / calls * 100, 0)", "ReturnData": True},
            {"Id": "errors", "MetricStat": stat(errors), "ReturnData": False},
            {"Id": "calls", "MetricStat": stat(calls), "ReturnData": False},
        ],
        EvaluationPeriods=1,
        Threshold=5.0,
        ComparisonOperator="GreaterThanThreshold",
    )
    _put(cloudwatch, errors, 10)
    assert clock.evaluate_alarm(moto_server.endpoint_url, name) == "INSUFFICIENT_DATA"  # no calls datapoint
    _put(cloudwatch, calls, 100)
    assert clock.evaluate_alarm(moto_server.endpoint_url, name) == "ALARM"  # 10 %
    _put(cloudwatch, calls, 900)
    assert clock.evaluate_alarm(moto_server.endpoint_url, name) == "OK"  # 1 %
    assert json.loads(_state(cloudwatch, name)["StateReasonData"])["recentDatapoints"] == [1.0]


@pytest.mark.parametrize(
    ("treat_missing", "expected"),
    [("missing", "INSUFFICIENT_DATA"), ("breaching", "ALARM"), ("notBreaching", "OK"), ("ignore", "OK")],
)
def test_treat_missing_data(moto_server: Any, cloudwatch: Any, treat_missing: str, expected: str) -> None:
    name = _name("missing")
    _alarm(cloudwatch, name, _name("silent"), TreatMissingData=treat_missing, EvaluationPeriods=3)
    cloudwatch.set_alarm_state(AlarmName=name, StateValue="OK", StateReason="set by the test")
    assert clock.evaluate_alarm(moto_server.endpoint_url, name) == expected  # ignore: the state stays


def test_datapoints_to_alarm_m_of_n_over_advancing_time(moto_server: Any, cloudwatch: Any) -> None:
    name, metric = _name("m-of-n"), _name("m")
    _alarm(
        cloudwatch, name, metric, EvaluationPeriods=3, DatapointsToAlarm=2, TreatMissingData="notBreaching"
    )
    _put(cloudwatch, metric, 9.0)
    assert clock.evaluate_alarm(moto_server.endpoint_url, name) == "OK"  # 1 of 3
    clock.advance(moto_server.endpoint_url, PERIOD)
    _put(cloudwatch, metric, 1.0)
    clock.advance(moto_server.endpoint_url, PERIOD)
    _put(cloudwatch, metric, 8.0)
    assert clock.evaluate_alarm(moto_server.endpoint_url, name) == "ALARM"  # 2 of 3
    clock.advance(moto_server.endpoint_url, 2 * PERIOD)  # the first breach leaves the window
    assert clock.evaluate_alarm(moto_server.endpoint_url, name) == "OK"


def test_alarms_are_evaluated_when_the_clock_passes_their_minute(moto_server: Any, cloudwatch: Any) -> None:
    name, metric = _name("due"), _name("m")
    _alarm(cloudwatch, name, metric)
    clock.advance(moto_server.endpoint_url, 30)
    _put(cloudwatch, metric, 9.0)
    assert _state(cloudwatch, name)["StateValue"] == "INSUFFICIENT_DATA"  # evaluated once a minute
    answer = clock.advance(moto_server.endpoint_url, 31)  # a minute after its creation: due
    assert answer["alarms"][f"{moto_server.account_id}/{moto_server.region}/{name}"] == "ALARM"
    assert _state(cloudwatch, name)["StateValue"] == "ALARM"


def test_a_composite_alarm_follows_its_child(moto_server: Any, cloudwatch: Any) -> None:
    sns, sqs = moto_server.client("sns"), moto_server.client("sqs")
    topic = sns.create_topic(Name=_name("topic"))["TopicArn"]
    url = sqs.create_queue(QueueName=_name("inbox"))["QueueUrl"]
    queue = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue, Attributes={"RawMessageDelivery": "true"})
    child, other, metric = _name("child"), _name("other"), _name("m")
    _alarm(cloudwatch, child, metric)
    _alarm(cloudwatch, other, _name("quiet"))
    other_arn = _state(cloudwatch, other)["AlarmArn"]
    health = _name("health")
    cloudwatch.put_composite_alarm(
        AlarmName=health,
        AlarmRule=f'ALARM("{child}") OR (ALARM({other_arn}) AND NOT OK({child}))',
        AlarmActions=[topic],
        OKActions=[topic],
    )
    assert _state(cloudwatch, health)["StateValue"] == "INSUFFICIENT_DATA"
    _put(cloudwatch, metric, 9.0)
    assert clock.evaluate_alarm(moto_server.endpoint_url, child) == "ALARM"
    composite = _state(cloudwatch, health)
    assert composite["StateValue"] == "ALARM"  # followed its child at once
    assert child in composite["StateReason"] and "transitioned to ALARM" in composite["StateReason"]
    environment = {**os.environ, **moto_server.environment}
    cli = subprocess.run(  # what the AWS CLI sees
        [
            "aws",
            "cloudwatch",
            "describe-alarms",
            "--alarm-names",
            health,
            "--alarm-types",
            "CompositeAlarm",
            "--query",
            "CompositeAlarms[0].StateValue",
            "--output",
            "text",
        ],
        capture_output=True,
        text=True,
        env=environment,
        timeout=60,
        check=True,
    )
    assert cli.stdout.strip() == "ALARM"
    clock.advance(moto_server.endpoint_url, PERIOD)
    _put(cloudwatch, metric, 1.0)
    assert clock.evaluate_alarm(moto_server.endpoint_url, child) == "OK"
    assert _state(cloudwatch, health)["StateValue"] == "OK"
    messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
    states = [json.loads(m["Body"])["NewStateValue"] for m in messages]
    assert sorted(states) == ["ALARM", "OK"]


def test_anomaly_detection_alarms_are_not_evaluated(moto_server: Any, cloudwatch: Any) -> None:
    name, metric = _name("anomaly"), _name("m")
    cloudwatch.put_metric_alarm(
        AlarmName=name,
        Metrics=[
            {"Id": "band", "Expression": "ANOMALY_DETECTION_BAND(m1, 2)", "ReturnData": True},
            {
                "Id": "m1",
                "MetricStat": {
                    "Metric": {"Namespace": "KeelTime", "MetricName": metric},
                    "Period": 60,
                    "Stat": "Sum",
                },
                "ReturnData": True,
            },
        ],
        ThresholdMetricId="band",
        EvaluationPeriods=1,
        ComparisonOperator="LessThanLowerOrGreaterThanUpperThreshold",
    )
    _put(cloudwatch, metric, 1000.0)
    assert clock.evaluate_alarms(moto_server.endpoint_url, [name]) == {name: None}
    assert _state(cloudwatch, name)["StateValue"] == "INSUFFICIENT_DATA"


def _scheduled_rule(moto_server: Any, expression: str) -> tuple[str, str, str]:
    """A scheduled rule with an SQS target and a Lambda target: (rule name, queue URL, function name)."""
    events, sqs = moto_server.client("events"), moto_server.client("sqs")
    name = _name("rule")
    url = sqs.create_queue(QueueName=_name("q"))["QueueUrl"]
    queue = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    events.put_rule(Name=name, ScheduleExpression=expression)
    function = f"arn:aws:lambda:{moto_server.region}:{moto_server.account_id}:function:{name}"
    events.put_targets(Rule=name, Targets=[{"Id": "q", "Arn": queue}, {"Id": "fn", "Arn": function}])
    return name, url, name


def _queued(moto_server: Any, url: str) -> list[dict[str, Any]]:
    sqs = moto_server.client("sqs")
    messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
    for message in messages:
        sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    return [json.loads(m["Body"]) for m in messages]


def test_a_rate_rule_fires_when_the_clock_reaches_its_time(moto_server: Any) -> None:
    name, url, function = _scheduled_rule(moto_server, "rate(5 minutes)")
    rule_arn = moto_server.client("events").describe_rule(Name=name)["Arn"]
    clock.advance(moto_server.endpoint_url, 299)
    assert _queued(moto_server, url) == [] and _kept(moto_server, function) == []
    answer = clock.advance(moto_server.endpoint_url, 2)
    assert [e["resources"] for e in answer["fired"] if e["resources"] == [rule_arn]] == [[rule_arn]]
    [event] = _queued(moto_server, url)
    assert (event["source"], event["detail-type"], event["resources"], event["detail"]) == (
        "aws.events",
        "Scheduled Event",
        [rule_arn],
        {},
    )
    assert [e["detail-type"] for e in _kept(moto_server, function)] == ["Scheduled Event"]
    clock.advance(moto_server.endpoint_url, 600)  # two more times
    assert len(_queued(moto_server, url)) == 2


def test_fire_now(moto_server: Any) -> None:
    name, url, function = _scheduled_rule(moto_server, "cron(0 3 * * ? *)")
    event = clock.fire_rule(moto_server.endpoint_url, name)
    assert event["detail-type"] == "Scheduled Event" and event["time"].endswith("Z")
    assert [e["id"] for e in _queued(moto_server, url)] == [event["id"]]
    assert [e["id"] for e in _kept(moto_server, function)] == [event["id"]]
    moto_server.client("events").disable_rule(Name=name)
    clock.advance(moto_server.endpoint_url, 86400)  # a disabled rule does not fire
    assert _queued(moto_server, url) == []


def test_controls_refuse_what_they_cannot_do(moto_server: Any) -> None:
    with pytest.raises(clock.LocalClockError, match="404"):
        clock.fire_rule(moto_server.endpoint_url, "no-such-rule")
    with pytest.raises(clock.LocalClockError, match=r"404.*no alarm named"):
        clock.evaluate_alarms(moto_server.endpoint_url, ["no-such-alarm"])
    with pytest.raises(clock.LocalClockError, match="400"):
        clock.advance(moto_server.endpoint_url, -5)
    with pytest.raises(clock.LocalClockError, match="not Keel's local AWS"):
        clock.advance("https://clock.example.com", 5)  # any non-loopback endpoint
    before = clock.now(moto_server.endpoint_url)
    assert clock.now(moto_server.endpoint_url) >= before


def test_a_cloudwatch_client_reaches_the_evaluation(moto_server: Any, cloudwatch: Any) -> None:
    name, metric = _name("client"), _name("m")
    _alarm(cloudwatch, name, metric, ComparisonOperator="LessThanThreshold")
    _put(cloudwatch, metric, 1.0)
    assert clock.evaluate_alarm(cloudwatch, name) == "ALARM"
