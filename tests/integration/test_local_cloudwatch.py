"""AWS::CloudWatch::Alarm, CompositeAlarm and Dashboard on the local server, checked through CloudWatch."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest

from keel.local import cfn_deploy

pytestmark = pytest.mark.integration


def _template(prefix: str, *, threshold: float) -> dict[str, Any]:
    return {
        "Resources": {
            "Topic": {"Type": "AWS::SNS::Topic", "Properties": {}},
            "Errors": {
                "Type": "AWS::CloudWatch::Alarm",
                "Properties": {
                    "AlarmName": f"{prefix}-errors",
                    "Namespace": "Keel",
                    "MetricName": "TriggerErrors",
                    "Dimensions": [{"Name": "Environment", "Value": "local"}],
                    "Statistic": "Sum",
                    "Period": 300,
                    "EvaluationPeriods": 1,
                    "Threshold": threshold,
                    "ComparisonOperator": "GreaterThanOrEqualToThreshold",
                    "TreatMissingData": "notBreaching",
                    "AlarmActions": [{"Ref": "Topic"}],
                },
            },
            "ErrorRate": {  # metric math, as the CDK's MathExpression writes it
                "Type": "AWS::CloudWatch::Alarm",
                "Properties": {
                    "AlarmName": f"{prefix}-error-rate",
                    "EvaluationPeriods": 2,
                    "Threshold": 0.05,
                    "ComparisonOperator": "GreaterThanThreshold",
                    "Metrics": [
                        {"Id": "rate", "Expression": "errors / invocations", "ReturnData": True},
                        {
                            "Id": "errors",
                            "ReturnData": False,
                            "MetricStat": {
                                "Metric": {"Namespace": "AWS/Lambda", "MetricName": "Errors"},
                                "Period": 300,
                                "Stat": "Sum",
                            },
                        },
                        {
                            "Id": "invocations",
                            "ReturnData": False,
                            "MetricStat": {
                                "Metric": {"Namespace": "AWS/Lambda", "MetricName": "Invocations"},
                                "Period": 300,
                                "Stat": "Sum",
                            },
                        },
                    ],
                },
            },
            "Any": {
                "Type": "AWS::CloudWatch::CompositeAlarm",
                "Properties": {
                    "AlarmName": f"{prefix}-any",
                    "AlarmRule": {
                        "Fn::Sub": "ALARM(${Errors}) OR ALARM(${ErrorRate})"
                        if threshold < 5
                        else "ALARM(${Errors})"
                    },
                    "AlarmActions": [{"Ref": "Topic"}],
                },
            },
            "Dashboard": {
                "Type": "AWS::CloudWatch::Dashboard",
                "Properties": {
                    "DashboardName": f"{prefix}-dashboard",
                    "DashboardBody": json.dumps(
                        {"widgets": [{"type": "text", "properties": {"markdown": "Keel"}}]}
                    ),
                },
            },
        },
        "Outputs": {"ErrorsArn": {"Value": {"Fn::GetAtt": ["Errors", "Arn"]}}},
    }


def test_alarms_composite_alarm_and_dashboard(moto_server: Any) -> None:
    cfn, cloudwatch = moto_server.client("cloudformation"), moto_server.client("cloudwatch")
    prefix = f"keel-{uuid.uuid4().hex[:8]}"
    names = [f"{prefix}-errors", f"{prefix}-error-rate", f"{prefix}-any"]

    outputs = cfn_deploy.outputs(cfn_deploy.deploy(cfn, prefix, _template(prefix, threshold=1)))
    answer = cloudwatch.describe_alarms(AlarmNames=names, AlarmTypes=["MetricAlarm", "CompositeAlarm"])
    metric_alarms = {a["AlarmName"]: a for a in answer["MetricAlarms"]}
    errors = metric_alarms[f"{prefix}-errors"]
    assert errors["AlarmArn"] == outputs["ErrorsArn"]
    assert (errors["Namespace"], errors["MetricName"], errors["Threshold"]) == ("Keel", "TriggerErrors", 1.0)
    assert errors["Dimensions"] == [{"Name": "Environment", "Value": "local"}]
    assert errors["AlarmActions"][0].startswith("arn:aws:sns:")
    assert errors["StateValue"] == "INSUFFICIENT_DATA"  # as in AWS (moto said OK)
    rate = metric_alarms[f"{prefix}-error-rate"]
    assert [m["Id"] for m in rate["Metrics"]] == ["rate", "errors", "invocations"]
    assert rate["Metrics"][1]["MetricStat"]["Metric"]["MetricName"] == "Errors"
    (composite,) = answer["CompositeAlarms"]
    assert composite["AlarmRule"] == f"ALARM({prefix}-errors) OR ALARM({prefix}-error-rate)"
    body = json.loads(cloudwatch.get_dashboard(DashboardName=f"{prefix}-dashboard")["DashboardBody"])
    assert body["widgets"][0]["type"] == "text"

    cfn_deploy.deploy(cfn, prefix, _template(prefix, threshold=5))
    (errors,) = cloudwatch.describe_alarms(AlarmNames=[f"{prefix}-errors"])["MetricAlarms"]
    assert errors["Threshold"] == 5.0
    answer = cloudwatch.describe_alarms(AlarmNames=[f"{prefix}-any"], AlarmTypes=["CompositeAlarm"])
    assert answer["CompositeAlarms"][0]["AlarmRule"] == f"ALARM({prefix}-errors)"

    cfn_deploy.delete(cfn, prefix)
    answer = cloudwatch.describe_alarms(AlarmNames=names, AlarmTypes=["MetricAlarm", "CompositeAlarm"])
    assert answer["MetricAlarms"] == answer["CompositeAlarms"] == []
    assert cloudwatch.list_dashboards(DashboardNamePrefix=prefix)["DashboardEntries"] == []


def test_put_composite_alarm_api(moto_server: Any) -> None:
    cloudwatch = moto_server.client("cloudwatch")
    name = f"keel-{uuid.uuid4().hex[:8]}"
    cloudwatch.put_composite_alarm(AlarmName=name, AlarmRule="ALARM(other)")
    (alarm,) = cloudwatch.describe_alarms(AlarmNames=[name], AlarmTypes=["CompositeAlarm"])["CompositeAlarms"]
    assert (alarm["AlarmRule"], alarm["StateValue"]) == ("ALARM(other)", "INSUFFICIENT_DATA")
    cloudwatch.delete_alarms(AlarmNames=[name])


def _inbox(moto_server: Any, topic_arn: str) -> tuple[Any, str]:
    sqs = moto_server.client("sqs")
    url = sqs.create_queue(QueueName=f"inbox-{uuid.uuid4().hex[:8]}")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    moto_server.client("sns").subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=arn)
    return sqs, url


def _received(sqs: Any, url: str) -> list[dict[str, Any]]:
    messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
    for message in messages:
        sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    return [json.loads(m["Body"]) for m in messages]


def test_state_changes_notify_the_topics_of_their_actions(moto_server: Any) -> None:
    sns, cloudwatch = moto_server.client("sns"), moto_server.client("cloudwatch")
    alarm_topic = sns.create_topic(Name=f"alarms-{uuid.uuid4().hex[:8]}")["TopicArn"]
    ok_topic = sns.create_topic(Name=f"ok-{uuid.uuid4().hex[:8]}")["TopicArn"]
    alarms, alarm_url = _inbox(moto_server, alarm_topic)
    oks, ok_url = _inbox(moto_server, ok_topic)
    name = f"keel-test-{uuid.uuid4().hex[:8]}"
    cloudwatch.put_metric_alarm(
        AlarmName=name,
        AlarmDescription="validation failures",
        Namespace="Keel",
        MetricName="ValidationFailures",
        Dimensions=[{"Name": "Environment", "Value": "local"}],
        Statistic="Maximum",
        Period=3600,
        EvaluationPeriods=1,
        Threshold=1,
        ComparisonOperator="GreaterThanOrEqualToThreshold",
        AlarmActions=[alarm_topic],
        OKActions=[ok_topic],
    )
    cloudwatch.set_alarm_state(AlarmName=name, StateValue="ALARM", StateReason="1 failure")
    [notice] = _received(alarms, alarm_url)
    assert notice["Subject"] == f'ALARM: "{name}" in US East (N. Virginia)'
    message = json.loads(notice["Message"])
    assert (message["AlarmName"], message["NewStateValue"], message["OldStateValue"]) == (
        name,
        "ALARM",
        "INSUFFICIENT_DATA",
    )
    assert message["NewStateReason"] == "1 failure"
    assert message["Trigger"]["MetricName"] == "ValidationFailures"
    assert message["Trigger"]["Dimensions"] == [{"name": "Environment", "value": "local"}]
    cloudwatch.set_alarm_state(AlarmName=name, StateValue="ALARM", StateReason="still failing")
    assert _received(alarms, alarm_url) == []  # no change of state: no notification
    cloudwatch.set_alarm_state(AlarmName=name, StateValue="OK", StateReason="recovered")
    assert [json.loads(n["Message"])["NewStateValue"] for n in _received(oks, ok_url)] == ["OK"]
    assert _received(alarms, alarm_url) == []


def test_disabled_actions_notify_nobody(moto_server: Any) -> None:
    sns, cloudwatch = moto_server.client("sns"), moto_server.client("cloudwatch")
    topic = sns.create_topic(Name=f"alarms-{uuid.uuid4().hex[:8]}")["TopicArn"]
    sqs, url = _inbox(moto_server, topic)
    name = f"keel-test-{uuid.uuid4().hex[:8]}"
    cloudwatch.put_metric_alarm(
        AlarmName=name,
        Namespace="Keel",
        MetricName="ValidationFailures",
        Statistic="Maximum",
        Period=60,
        EvaluationPeriods=1,
        Threshold=1,
        ComparisonOperator="GreaterThanOrEqualToThreshold",
        AlarmActions=[topic],
        ActionsEnabled=False,
    )
    cloudwatch.set_alarm_state(AlarmName=name, StateValue="ALARM", StateReason="x")
    assert _received(sqs, url) == []
