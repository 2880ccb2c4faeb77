"""The local alarm evaluation (CloudWatch's rules for Keel's static-threshold and metric-math alarms), on moto
mocking in this process: the same code the local AWS runs server side."""

from __future__ import annotations

import json
import math
from typing import Any

import boto3
import pytest
from moto import mock_aws

from keel.local.clock import evaluate_alarm
from keel.local.metric_math import (
    MissingDatapointError,
    UnsupportedExpressionError,
    decide,
    evaluate_expression,
    names_in,
)


@pytest.mark.parametrize(
    ("values", "periods", "needed", "missing", "current", "expected"),
    [
        ([0.5], 1, 1, "ignore", "OK", "ALARM"),
        ([0.1], 1, 1, "ignore", "ALARM", "OK"),
        ([], 1, 1, "ignore", "ALARM", "ALARM"),
        ([], 1, 1, "notBreaching", "ALARM", "OK"),
        ([], 1, 1, "missing", "OK", "INSUFFICIENT_DATA"),
        ([], 3, 3, "breaching", "OK", "ALARM"),
        ([0.5, 0.1, 0.5], 3, 2, "notBreaching", "OK", "ALARM"),
        ([0.5, 0.1, 0.1], 3, 2, "notBreaching", "OK", "OK"),
        ([0.5], 3, 2, "breaching", "OK", "ALARM"),
        ([0.5], 3, 2, "notBreaching", "OK", "OK"),
    ],
)
def test_decide(
    values: list[float], periods: int, needed: int, missing: str, current: str, expected: str
) -> None:
    assert (
        decide(
            values,
            evaluation_periods=periods,
            datapoints_to_alarm=needed,
            threshold=0.25,
            comparison="GreaterThanThreshold",
            treat_missing=missing,
            current=current,
        )
        == expected
    )


def test_less_than_comparisons() -> None:
    kwargs = {"evaluation_periods": 1, "datapoints_to_alarm": 1, "treat_missing": "missing", "current": "OK"}
    assert decide([0.0], threshold=1, comparison="LessThanThreshold", **kwargs) == "ALARM"  # type: ignore[arg-type]
    assert decide([1.0], threshold=1, comparison="LessThanOrEqualToThreshold", **kwargs) == "ALARM"  # type: ignore[arg-type]
    assert decide([1.0], threshold=1, comparison="LessThanThreshold", **kwargs) == "OK"  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("expression", "values", "expected"),
    [
        ("IF(reviews >= 20, accuracy, 1)", {"reviews": 25, "accuracy": 0.4}, 0.4),
        ("IF(reviews >= 20, accuracy, 1)", {"reviews": 5, "accuracy": 0.0}, 1.0),
        ("errors / invocations * 100", {"errors": 2, "invocations": 50}, 4.0),
        ("-a + 2", {"a": 0.5}, 1.5),
        ("a != b", {"a": 1, "b": 2}, 1.0),
    ],
)
def test_metric_math_subset(expression: str, values: dict[str, float], expected: float) -> None:
    assert evaluate_expression(expression, values) == pytest.approx(expected)


def test_division_by_zero_is_nan_and_unknown_parts_are_named() -> None:
    assert math.isnan(evaluate_expression("a / b", {"a": 1, "b": 0}))
    with pytest.raises(UnsupportedExpressionError, match="'missing'"):
        evaluate_expression("missing + 1", {})
    with pytest.raises(UnsupportedExpressionError, match="not evaluated locally"):
        evaluate_expression("ANOMALY_DETECTION_BAND(m, 2)", {"m": 1})
    with pytest.raises(UnsupportedExpressionError, match="cannot parse"):
        evaluate_expression("IF(", {})


def _accuracy_alarm(cloudwatch: Any) -> str:
    """The model-quality alarm as the monitoring stack deploys it (metric math over FeedbackAccuracy)."""
    metric = {
        "Namespace": "Keel",
        "MetricName": "FeedbackAccuracy",
        "Dimensions": [{"Name": "Environment", "Value": "t"}],
    }
    cloudwatch.put_metric_alarm(
        AlarmName="keel-t-model-quality-feedback-accuracy",
        Metrics=[
            {"Id": "expr_1", "Expression": "IF(reviews >= 20, accuracy, 1)", "ReturnData": True},
            {
                "Id": "accuracy",
                "MetricStat": {"Metric": metric, "Period": 21600, "Stat": "Average"},
                "ReturnData": False,
            },
            {
                "Id": "reviews",
                "MetricStat": {"Metric": metric, "Period": 21600, "Stat": "SampleCount"},
                "ReturnData": False,
            },
        ],
        EvaluationPeriods=1,
        Threshold=0.5,
        ComparisonOperator="LessThanThreshold",
        TreatMissingData="ignore",
    )
    return "keel-t-model-quality-feedback-accuracy"


def _reviews(cloudwatch: Any, confirmed: int, corrected: int) -> None:
    cloudwatch.put_metric_data(
        Namespace="Keel",
        MetricData=[
            {
                "MetricName": "FeedbackAccuracy",
                "Dimensions": [{"Name": "Environment", "Value": "t"}],
                "Values": [1.0, 0.0],
                "Counts": [confirmed, corrected],
            }
        ],
    )


def test_the_model_quality_alarm_judges_only_with_enough_reviews() -> None:
    with mock_aws():
        cloudwatch = boto3.client("cloudwatch", region_name="us-east-1")
        name = _accuracy_alarm(cloudwatch)
        initial = cloudwatch.describe_alarms(AlarmNames=[name])["MetricAlarms"][0]["StateValue"]
        assert evaluate_alarm(cloudwatch, name) == initial  # no reviews: missing data is ignored
        _reviews(cloudwatch, confirmed=2, corrected=8)
        assert (
            evaluate_alarm(cloudwatch, name) == "OK"
        )  # 10 reviews: too few to judge (the expression says 1)
        _reviews(cloudwatch, confirmed=4, corrected=16)
        assert evaluate_alarm(cloudwatch, name) == "ALARM"  # 30 reviews, 20% confirmed
        alarm = cloudwatch.describe_alarms(AlarmNames=[name])["MetricAlarms"][0]
        assert alarm["StateReason"].startswith("Threshold Crossed: 1 out of the last 1 datapoints [0.2 (")
        assert json.loads(alarm["StateReasonData"])["statistic"] == "metric math"


def test_a_known_metric_without_datapoint_leaves_the_period_empty() -> None:
    with pytest.raises(MissingDatapointError):
        evaluate_expression("a / b", {"a": 1}, known=frozenset({"a", "b"}))
    assert names_in("IF(reviews >= 20, accuracy, 1)") == {"reviews", "accuracy"}


def test_datapoints_outside_the_window_do_not_count() -> None:
    from datetime import UTC, datetime, timedelta

    with mock_aws():
        cloudwatch = boto3.client("cloudwatch", region_name="us-east-1")
        cloudwatch.put_metric_alarm(
            AlarmName="errors",
            Namespace="Keel",
            MetricName="Errors",
            Statistic="Sum",
            Period=60,
            EvaluationPeriods=1,
            Threshold=0,
            ComparisonOperator="GreaterThanThreshold",
        )
        now = datetime.now(UTC)
        at = now - timedelta(minutes=5)
        cloudwatch.put_metric_data(
            Namespace="Keel", MetricData=[{"MetricName": "Errors", "Value": 3, "Timestamp": at}]
        )
        assert evaluate_alarm(cloudwatch, "errors", at=now) == "INSUFFICIENT_DATA"
        assert evaluate_alarm(cloudwatch, "errors", at=at + timedelta(seconds=30)) == "ALARM"
