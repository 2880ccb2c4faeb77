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
