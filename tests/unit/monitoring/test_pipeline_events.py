"""Training-pipeline metrics from SageMaker's execution status events."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from keel.config import load_environment
from keel.monitoring.pipeline_events import PipelineMetrics, retrain_reason
from keel.monitoring.runtime_settings import publisher_settings
from keel.naming import pipeline_name
from tests.unit.monitoring.world import World

PREFIXES = {"drift": "keel-dev-drift-", "model-quality": "keel-dev-model-quality-"}


@pytest.mark.parametrize(
    ("display", "trigger", "expected"),
    [
        ("keel-alarm-20260101T000000-ab", "alarm keel-dev-drift-dataset: Threshold Crossed", "drift"),
        ("keel-alarm-x", "alarm keel-dev-model-quality-feedback-accuracy: x", "model-quality"),
        ("keel-alarm-x", "alarm someone-elses: x", "alarm"),
        ("keel-schedule-20260101T000000-ab", "scheduled retraining", "schedule"),
        ("keel-s3-event-20260101T000000-ab", "3 object(s) landed", "data"),
        ("keel-kinesis-20260101T000000-ab", "1000 new valid streamed records", "stream"),
        ("keel-cli-20260101T000000", "manual run", "manual"),
        ("keel-file-x", "corrections", "feedback"),
        ("something else", None, "other"),
        (None, None, "other"),
    ],
)
def test_retrain_reason(display: str | None, trigger: str | None, expected: str) -> None:
    assert retrain_reason(display, trigger, PREFIXES) == expected


def event(
    world: World, status: str, execution: str = "abc123", display: str = "keel-cli-20260101"
) -> dict[str, Any]:
    arn = f"arn:aws:sagemaker:us-east-1:123456789012:pipeline/{pipeline_name(world.config)}"
    return {
        "detail-type": "SageMaker Model Building Pipeline Execution Status Change",
        "detail": {
            "pipelineArn": arn,
            "pipelineExecutionArn": f"{arn}/execution/{execution}",
            "pipelineExecutionDisplayName": display,
            "currentPipelineExecutionStatus": status,
        },
    }


def test_executions_and_validation_become_metrics(world: World) -> None:
    settings = publisher_settings(world.config)
    metrics = PipelineMetrics(
        settings,
        sagemaker=world.sagemaker,
        s3=world.s3,
        cloudwatch=world.cloudwatch,
        clock=lambda: datetime.now(UTC),
    )
    summary = {
        "success": False,
        "failures": [{"expectation": "x"}, {"expectation": "y"}],
        "errors": [],
        "quarantined_rows": 7,
    }
    key = f"pipeline/{settings.pipeline_name}/abc123/validation/summary.json"
    world.s3.put_object(Bucket=world.reports, Key=key, Body=json.dumps(summary).encode())

    started = metrics.handle(event(world, "Executing"))
    ended = metrics.handle(event(world, "Failed"))
    assert started["status"] == ended["status"] == "published"
    listed = world.cloudwatch.list_metrics(Namespace="Keel")["Metrics"]
    found = {
        (m["MetricName"], tuple(sorted((d["Name"], d["Value"]) for d in m["Dimensions"]))) for m in listed
    }
    env = ("Environment", world.config.name)
    assert found == {
        ("Retrains", (env,)),
        ("Retrains", (env, ("Reason", "manual"))),
        ("PipelineExecutions", (env, ("Status", "Failed"))),
        ("ValidationFailures", (env,)),
        ("QuarantinedRows", (env,)),
    }
    other = event(world, "Succeeded")
    other["detail"]["pipelineArn"] = "arn:aws:sagemaker:us-east-1:123456789012:pipeline/other"
    assert metrics.handle(other)["status"] == "ignored"
    assert metrics.handle(event(world, "Stopping"))["status"] == "ignored"


def test_an_execution_without_validation_output_has_no_validation_metric(world: World) -> None:
    metrics = PipelineMetrics(
        publisher_settings(world.config), sagemaker=world.sagemaker, s3=world.s3, cloudwatch=world.cloudwatch,
        clock=lambda: datetime.now(UTC),
    )  # fmt: skip
    result = metrics.handle(event(world, "Succeeded", execution="nothing"))
    assert result["metrics"] == 1


def test_publisher_settings_round_trip_through_the_environment() -> None:
    settings = publisher_settings(load_environment("dev"), kms_key_arn="arn:key")
    environ = settings.to_environ() | {"KEEL_ARTIFACTS_KEY_ARN": "arn:key"}
    assert type(settings).from_environ(environ) == settings
    assert "kms_key_arn" not in json.loads(environ["KEEL_MONITORING_SETTINGS"])
