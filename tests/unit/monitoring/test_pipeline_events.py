"""Training-pipeline metrics from SageMaker's execution status events."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import boto3
import botocore.endpoint
import pytest
from botocore.exceptions import ClientError

from keel.config import load_environment
from keel.monitoring.aws_errors import CLIENT_CONFIG, MAX_RETRIES, AccessDeniedError
from keel.monitoring.pipeline_events import CorruptSummaryError, PipelineMetrics, retrain_reason
from keel.monitoring.runtime_settings import publisher_settings
from keel.naming import pipeline_name
from tests.unit.monitoring.faults import INTERNAL, SLOW_DOWN, THROTTLED, Faults, HttpError
from tests.unit.monitoring.world import REGION, World

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
            "pipelineExecutionArn": execution
            if execution.startswith("arn:")
            else f"{arn}/execution/{execution}",
            "pipelineExecutionDisplayName": display,
            "currentPipelineExecutionStatus": status,
        },
    }


def start_execution(world: World, display: str, trigger_reason: str | None = None) -> str:
    """An execution of Keel's pipeline in moto (with the TriggerReason parameter, if given); its ARN."""
    name = pipeline_name(world.config)
    definition = json.dumps({"Version": "2020-12-01", "Steps": []})
    role = "arn:aws:iam::123456789012:role/keel-pipeline"
    if not world.sagemaker.list_pipelines(PipelineNamePrefix=name)["PipelineSummaries"]:
        world.sagemaker.create_pipeline(PipelineName=name, PipelineDefinition=definition, RoleArn=role)
    parameters = [{"Name": "TriggerReason", "Value": trigger_reason}] if trigger_reason else []
    response = world.sagemaker.start_pipeline_execution(
        PipelineName=name, PipelineExecutionDisplayName=display, PipelineParameters=parameters
    )
    return str(response["PipelineExecutionArn"])


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

    execution = start_execution(world, "keel-cli-20260101")
    started = metrics.handle(event(world, "Executing", execution))
    ended = metrics.handle(event(world, "Failed", "abc123"))
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


# ------------------------------------------------------------------------------------- real service errors
@pytest.fixture
def sleeps(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """botocore's retry backoff, recorded instead of slept."""
    slept: list[float] = []
    monkeypatch.setattr(botocore.endpoint.time, "sleep", slept.append)
    return slept


def retrying(world: World) -> PipelineMetrics:
    """PipelineMetrics on clients built as deployed functions build them (CLIENT_CONFIG's retries)."""
    settings = publisher_settings(world.config)
    return PipelineMetrics(
        settings,
        sagemaker=boto3.client("sagemaker", region_name=REGION, config=CLIENT_CONFIG),
        s3=boto3.client("s3", region_name=REGION, config=CLIENT_CONFIG),
        cloudwatch=world.cloudwatch,
        clock=lambda: datetime.now(UTC),
    )


def published(world: World) -> list[str]:
    return sorted(m["MetricName"] for m in world.cloudwatch.list_metrics(Namespace="Keel")["Metrics"])


ALARM_REASON = "alarm keel-local-drift-dataset: Threshold Crossed"


def test_throttled_parameter_reads_are_retried_then_succeed(world: World, sleeps: list[float]) -> None:
    metrics = retrying(world)
    execution = start_execution(world, "keel-alarm-20260101T000000-ab", ALARM_REASON)
    faults = Faults(metrics.sagemaker, "ListPipelineParametersForExecution", [THROTTLED, INTERNAL])
    assert metrics.handle(event(world, "Executing", execution))["status"] == "published"
    assert faults.calls == 3 and len(sleeps) == 2
    reasons = {
        d["Value"]
        for m in world.cloudwatch.list_metrics(Namespace="Keel", MetricName="Retrains")["Metrics"]
        for d in m["Dimensions"]
        if d["Name"] == "Reason"
    }
    assert reasons == {"drift"}  # from TriggerReason, read after the retries


def test_persistent_throttling_is_raised_after_the_retries_not_turned_into_no_reason(
    world: World, sleeps: list[float]
) -> None:
    metrics = retrying(world)
    execution = start_execution(world, "keel-alarm-20260101T000000-ab", ALARM_REASON)
    faults = Faults(metrics.sagemaker, "ListPipelineParametersForExecution", [THROTTLED], always=True)
    with pytest.raises(ClientError) as raised:
        metrics.handle(event(world, "Executing", execution))
    assert raised.value.response["Error"]["Code"] == "ThrottlingException"
    assert faults.calls == MAX_RETRIES + 1 and len(sleeps) == MAX_RETRIES
    assert published(world) == []  # no metric with a guessed reason


def test_a_denied_parameter_read_fails_closed_with_the_reason(world: World, sleeps: list[float]) -> None:
    metrics = retrying(world)
    execution = start_execution(world, "keel-alarm-20260101T000000-ab", ALARM_REASON)
    denied = HttpError(
        400, "AccessDeniedException", "User: arn:aws:sts::123456789012:assumed-role/x is not authorized"
    )
    faults = Faults(metrics.sagemaker, "ListPipelineParametersForExecution", [denied], always=True)
    with pytest.raises(
        AccessDeniedError, match=r"sagemaker:ListPipelineParametersForExecution on arn:.*is not authorized"
    ):
        metrics.handle(event(world, "Executing", execution))
    assert faults.calls == 1 and sleeps == []  # a denial is not retried
    assert published(world) == []


def test_an_execution_sagemaker_does_not_know_falls_back_to_the_display_name(world: World) -> None:
    metrics = retrying(world)
    missing = HttpError(400, "ResourceNotFound", "Pipeline execution not found")
    Faults(metrics.sagemaker, "ListPipelineParametersForExecution", [missing])
    assert metrics.handle(event(world, "Executing", display="keel-schedule-20260101T000000-ab"))[
        "status"
    ] == ("published")
    assert "Retrains" in published(world)


def test_a_bad_request_is_raised_not_treated_as_not_found(world: World) -> None:
    metrics = retrying(world)
    invalid = HttpError(400, "ValidationException", "1 validation error detected")
    Faults(metrics.sagemaker, "ListPipelineParametersForExecution", [invalid])
    with pytest.raises(ClientError, match="ValidationException"):
        metrics.handle(event(world, "Executing"))


def test_a_denied_summary_read_fails_closed_and_is_not_taken_for_a_missing_summary(
    world: World, sleeps: list[float]
) -> None:
    metrics = retrying(world)
    faults = Faults(metrics.s3, "GetObject", [HttpError(403, "AccessDenied", "Access Denied")], always=True)
    with pytest.raises(
        AccessDeniedError, match=r"s3:GetObject on s3://.*/validation/summary.json was denied"
    ):
        metrics.handle(event(world, "Succeeded"))
    assert faults.calls == 1 and sleeps == []
    assert published(world) == []


def test_an_unavailable_summary_read_is_retried_then_raised(world: World, sleeps: list[float]) -> None:
    metrics = retrying(world)
    faults = Faults(metrics.s3, "GetObject", [SLOW_DOWN], always=True)
    with pytest.raises(ClientError, match="SlowDown"):
        metrics.handle(event(world, "Succeeded"))
    assert faults.calls == MAX_RETRIES + 1 and len(sleeps) == MAX_RETRIES


@pytest.mark.parametrize(
    ("body", "problem"), [(b"{not json", "not valid JSON"), (b"[]", "expected a JSON object")]
)
def test_a_corrupt_summary_is_a_clear_error(world: World, body: bytes, problem: str) -> None:
    metrics = retrying(world)
    key = f"pipeline/{pipeline_name(world.config)}/abc123/validation/summary.json"
    world.s3.put_object(Bucket=world.reports, Key=key, Body=body)
    with pytest.raises(CorruptSummaryError, match=f"s3://{world.reports}/{key}: {problem}"):
        metrics.handle(event(world, "Failed"))
