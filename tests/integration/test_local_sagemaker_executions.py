"""SageMaker pipeline executions on the local server (`sagemaker-pipeline-executions`): they start
Executing, ClientRequestToken makes a start idempotent, StopPipelineExecution stops them, and Keel's local
runner reports the outcome with `report_execution_status` (the Keel-local KeelCompletePipelineExecution)."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from botocore.exceptions import ClientError

from keel.local.runner.execution_status import (
    ACTION,
    ExecutionStatusError,
    post_local_action,
    report_execution_status,
)

pytestmark = pytest.mark.integration

DEFINITION = json.dumps(
    {
        "Version": "2020-12-01",
        "Parameters": [{"Name": "InputUri", "Type": "String", "DefaultValue": "s3://raw/x.csv"}],
        "Steps": [{"Name": "Stop", "Type": "Fail", "Arguments": {}}],
    }
)


@pytest.fixture
def sagemaker(moto_server: Any) -> Any:
    return moto_server.client("sagemaker")


@pytest.fixture
def pipeline(sagemaker: Any, moto_server: Any) -> str:
    name = f"keel-{uuid.uuid4().hex[:8]}-training"
    sagemaker.create_pipeline(
        PipelineName=name,
        PipelineDefinition=DEFINITION,
        RoleArn=f"arn:aws:iam::{moto_server.account_id}:role/keel-pipeline",
    )
    return name


def _start(sagemaker: Any, pipeline: str, **kwargs: Any) -> str:
    return str(sagemaker.start_pipeline_execution(PipelineName=pipeline, **kwargs)["PipelineExecutionArn"])


def _summary(sagemaker: Any, pipeline: str, arn: str) -> dict[str, Any]:
    summaries = sagemaker.list_pipeline_executions(PipelineName=pipeline)["PipelineExecutionSummaries"]
    (summary,) = (s for s in summaries if s["PipelineExecutionArn"] == arn)
    return dict(summary)


def _complete(sagemaker: Any, payload: dict[str, Any]) -> dict[str, Any]:
    """The raw Keel-local action, without report_execution_status's own checks."""
    return post_local_action(sagemaker, ACTION, payload)


def test_a_new_execution_is_executing_without_a_failure_reason(sagemaker: Any, pipeline: str) -> None:
    arn = _start(sagemaker, pipeline)
    described = sagemaker.describe_pipeline_execution(PipelineExecutionArn=arn)
    assert described["PipelineExecutionStatus"] == "Executing"
    assert "FailureReason" not in described
    summary = _summary(sagemaker, pipeline, arn)
    assert summary["PipelineExecutionStatus"] == "Executing"
    assert "PipelineExecutionFailureReason" not in summary  # stock moto said "None"


def test_a_retried_start_with_the_same_token_is_the_same_execution(
    sagemaker: Any, pipeline: str, moto_server: Any
) -> None:
    token = uuid.uuid4().hex
    first = _start(sagemaker, pipeline, ClientRequestToken=token, PipelineExecutionDisplayName="first")
    again = _start(sagemaker, pipeline, ClientRequestToken=token, PipelineExecutionDisplayName="again")
    assert again == first
    other = _start(sagemaker, pipeline, ClientRequestToken=uuid.uuid4().hex)
    assert other != first
    summaries = sagemaker.list_pipeline_executions(PipelineName=pipeline)["PipelineExecutionSummaries"]
    assert sorted(s["PipelineExecutionArn"] for s in summaries) == sorted([first, other])
    assert (
        sagemaker.describe_pipeline_execution(PipelineExecutionArn=first)["PipelineExecutionDisplayName"]
        == "first"
    )
    # Without a token boto3 sends a fresh one per call: two starts are two executions.
    assert _start(sagemaker, pipeline) != _start(sagemaker, pipeline)
    # The token is scoped to its pipeline.
    second_pipeline = f"{pipeline}-2"
    sagemaker.create_pipeline(
        PipelineName=second_pipeline,
        PipelineDefinition=DEFINITION,
        RoleArn=f"arn:aws:iam::{moto_server.account_id}:role/keel-pipeline",
    )
    elsewhere = _start(sagemaker, second_pipeline, ClientRequestToken=token)
    assert elsewhere != first and f"pipeline/{second_pipeline}/execution/" in elsewhere


def test_the_runner_reports_success(sagemaker: Any, pipeline: str) -> None:
    arn = _start(sagemaker, pipeline)
    assert report_execution_status(sagemaker, arn, "Succeeded") is True
    described = sagemaker.describe_pipeline_execution(PipelineExecutionArn=arn)
    assert described["PipelineExecutionStatus"] == "Succeeded"
    assert "FailureReason" not in described
    assert described["LastModifiedTime"] >= described["CreationTime"]
    summary = _summary(sagemaker, pipeline, arn)
    assert summary["PipelineExecutionStatus"] == "Succeeded"
    assert "PipelineExecutionFailureReason" not in summary


def test_the_runner_reports_failure_with_its_reason(sagemaker: Any, pipeline: str) -> None:
    arn = _start(sagemaker, pipeline)
    reason = "step ValidateData failed: 2 rows out of range (alcohol)"
    assert report_execution_status(sagemaker, arn, "Failed", failure_reason=reason) is True
    described = sagemaker.describe_pipeline_execution(PipelineExecutionArn=arn)
    assert (described["PipelineExecutionStatus"], described["FailureReason"]) == ("Failed", reason)
    summary = _summary(sagemaker, pipeline, arn)
    assert summary["PipelineExecutionStatus"] == "Failed"
    assert summary["PipelineExecutionFailureReason"] == reason


def test_the_runner_reports_a_stop_and_long_reasons_are_shortened(sagemaker: Any, pipeline: str) -> None:
    arn = _start(sagemaker, pipeline)
    assert report_execution_status(sagemaker, arn, "Stopped", failure_reason="x" * 5000) is True
    described = sagemaker.describe_pipeline_execution(PipelineExecutionArn=arn)
    assert described["PipelineExecutionStatus"] == "Stopped"
    assert len(described["FailureReason"]) == 3072 and described["FailureReason"].endswith("…")


def test_stop_pipeline_execution(sagemaker: Any, pipeline: str) -> None:
    arn = _start(sagemaker, pipeline)
    token = uuid.uuid4().hex
    stopped = sagemaker.stop_pipeline_execution(PipelineExecutionArn=arn, ClientRequestToken=token)
    assert stopped["PipelineExecutionArn"] == arn
    assert (
        sagemaker.describe_pipeline_execution(PipelineExecutionArn=arn)["PipelineExecutionStatus"]
        == "Stopped"
    )
    assert _summary(sagemaker, pipeline, arn)["PipelineExecutionStatus"] == "Stopped"
    # A retry of the same request answers the same; another stop of a stopped execution is refused.
    again = sagemaker.stop_pipeline_execution(PipelineExecutionArn=arn, ClientRequestToken=token)
    assert again["PipelineExecutionArn"] == arn
    with pytest.raises(ClientError, match="only an Executing execution can be stopped") as raised:
        sagemaker.stop_pipeline_execution(PipelineExecutionArn=arn)
    assert raised.value.response["Error"]["Code"] == "ValidationException"
    # The runner cannot complete an execution that was stopped meanwhile.
    with pytest.raises(ExecutionStatusError, match="already Stopped"):
        report_execution_status(sagemaker, arn, "Succeeded")


def test_stop_refuses_completed_and_unknown_executions(sagemaker: Any, pipeline: str) -> None:
    arn = _start(sagemaker, pipeline)
    report_execution_status(sagemaker, arn, "Succeeded")
    with pytest.raises(ClientError, match="is Succeeded") as raised:
        sagemaker.stop_pipeline_execution(PipelineExecutionArn=arn)
    assert raised.value.response["Error"]["Code"] == "ValidationException"
    assert (
        sagemaker.describe_pipeline_execution(PipelineExecutionArn=arn)["PipelineExecutionStatus"]
        == "Succeeded"
    )
    unknown = arn.rsplit("/", 1)[0] + "/doesnotexist"
    with pytest.raises(ClientError) as raised:
        sagemaker.stop_pipeline_execution(PipelineExecutionArn=unknown)
    assert raised.value.response["Error"]["Code"] == "ResourceNotFound"


def test_completing_an_unknown_execution_is_an_error(sagemaker: Any, pipeline: str) -> None:
    arn = _start(sagemaker, pipeline)
    for unknown in (
        arn.rsplit("/", 1)[0] + "/doesnotexist",
        arn.replace(f"pipeline/{pipeline}/", "pipeline/no-such-pipeline/"),
        "not-an-arn",
    ):
        with pytest.raises(ExecutionStatusError, match=r"HTTP 400: ResourceNotFound: .*does not exist"):
            report_execution_status(sagemaker, unknown, "Succeeded")
    with pytest.raises(ExecutionStatusError, match="ValidationException: PipelineExecutionArn is required"):
        _complete(sagemaker, {"PipelineExecutionStatus": "Succeeded"})
    assert (
        sagemaker.describe_pipeline_execution(PipelineExecutionArn=arn)["PipelineExecutionStatus"]
        == "Executing"
    )


def test_completing_with_an_invalid_status_names_the_allowed_ones(sagemaker: Any, pipeline: str) -> None:
    arn = _start(sagemaker, pipeline)
    for status in ("Executing", "Stopping", "succeeded", None):
        payload = {"PipelineExecutionArn": arn, "PipelineExecutionStatus": status}
        with pytest.raises(
            ExecutionStatusError,
            match="ValidationException: PipelineExecutionStatus must be one of Succeeded, Failed, Stopped",
        ):
            _complete(sagemaker, payload)
    with pytest.raises(ExecutionStatusError, match="FailureReason is only for a Failed or Stopped"):
        _complete(
            sagemaker,
            {"PipelineExecutionArn": arn, "PipelineExecutionStatus": "Succeeded", "FailureReason": "why?"},
        )
    with pytest.raises(ExecutionStatusError, match="longer than 3072"):
        _complete(
            sagemaker,
            {"PipelineExecutionArn": arn, "PipelineExecutionStatus": "Failed", "FailureReason": "x" * 3073},
        )
    with pytest.raises(ValueError, match="one of Succeeded, Failed, Stopped"):
        report_execution_status(sagemaker, arn, "Executing")  # refused before anything is sent
    assert (
        sagemaker.describe_pipeline_execution(PipelineExecutionArn=arn)["PipelineExecutionStatus"]
        == "Executing"
    )


def test_completing_a_completed_execution_is_an_error(sagemaker: Any, pipeline: str) -> None:
    arn = _start(sagemaker, pipeline)
    answer = _complete(
        sagemaker, {"PipelineExecutionArn": arn, "PipelineExecutionStatus": "Failed", "FailureReason": "boom"}
    )
    assert answer == {"PipelineExecutionArn": arn, "PipelineExecutionStatus": "Failed"}
    for status in ("Succeeded", "Failed", "Stopped"):
        with pytest.raises(ExecutionStatusError, match=r"HTTP 400: ValidationException: .*already Failed"):
            report_execution_status(sagemaker, arn, status)
    described = sagemaker.describe_pipeline_execution(PipelineExecutionArn=arn)
    assert (described["PipelineExecutionStatus"], described["FailureReason"]) == ("Failed", "boom")


def test_other_sagemaker_actions_still_work(sagemaker: Any, pipeline: str) -> None:
    """The Keel action's parameter parsing leaves botocore-modelled actions alone."""
    arn = _start(sagemaker, pipeline, PipelineParameters=[{"Name": "InputUri", "Value": "s3://raw/y.csv"}])
    parameters = sagemaker.list_pipeline_parameters_for_execution(PipelineExecutionArn=arn)
    assert parameters["PipelineParameters"] == [{"Name": "InputUri", "Value": "s3://raw/y.csv"}]
    definition = sagemaker.describe_pipeline_definition_for_execution(PipelineExecutionArn=arn)
    assert json.loads(definition["PipelineDefinition"]) == json.loads(DEFINITION)
    assert sagemaker.describe_pipeline(PipelineName=pipeline)["PipelineName"] == pipeline
