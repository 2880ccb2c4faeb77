"""The lineage recorder's record, assembled from what SageMaker and S3 answer.

SageMaker is answered by botocore's Stubber (moto lacks ListPipelineExecutionSteps; every request is checked
against the service model, every response is written to it); S3 is moto in-process. Errors keep their
meaning: a missing report is absent, anything else fails the invocation (retried, then dead-lettered) and
writes nothing.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from botocore.awsrequest import AWSResponse
from botocore.config import Config
from botocore.exceptions import ClientError
from botocore.stub import ANY, Stubber
from moto import mock_aws

from keel.lineage.assemble import (
    DRIFT_FILE,
    EVALUATION_FILE,
    INPUT_NAME,
    INPUT_STEP,
    VALIDATION_FILE,
    DeployedCode,
    ExecutionNotEndedError,
    RecordSources,
    assemble_record,
)
from keel.lineage.record import RECORD_EVENT_DETAIL_TYPE, ContractRef, LineageRecord
from keel.lineage.recorder import AnnouncementError, LineageRecorder

REGION, ACCOUNT = "eu-west-1", "111111111111"
PIPELINE = f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:pipeline/keel-dev-training"
EXECUTION = f"{PIPELINE}/execution/abc123def456"
REPORTS, RAW, ARTIFACTS = "keel-dev-reports", "keel-dev-raw", "keel-dev-artifacts"
JOBS = f"arn:aws:sagemaker:{REGION}:{ACCOUNT}"
T0 = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
DEFINITION = {
    "Version": "2020-12-01",
    "Parameters": [
        {"Name": "InputDataUri", "Type": "String", "DefaultValue": f"s3://{RAW}/landing/"},
        {"Name": "InputObjectVersion", "Type": "String", "DefaultValue": "latest"},
        {"Name": "TriggerReason", "Type": "String", "DefaultValue": "manual"},
        {"Name": "MinAccuracy", "Type": "Float", "DefaultValue": 0.6},
        {"Name": "HpNEstimators", "Type": "Integer", "DefaultValue": 100},
    ],
    "Steps": [
        {"Name": "ValidateData", "Type": "Processing", "Arguments": {}},
        {
            "Name": "CombineValidation",
            "Type": "Processing",
            "Arguments": {},
            "PropertyFiles": [
                {
                    "PropertyFileName": "ValidationSummary",
                    "OutputName": "validation",
                    "FilePath": "summary.json",
                }
            ],
        },
        {"Name": "Train", "Type": "Training", "Arguments": {}},
        {
            "Name": "Evaluate",
            "Type": "Processing",
            "Arguments": {},
            "PropertyFiles": [
                {"PropertyFileName": "Evaluation", "OutputName": "evaluation", "FilePath": "evaluation.json"}
            ],
        },
        {
            "Name": "MeasureDrift",
            "Type": "Processing",
            "Arguments": {},
            "PropertyFiles": [
                {"PropertyFileName": "DriftReport", "OutputName": "drift", "FilePath": "drift_report.json"}
            ],
        },
        {
            "Name": "QualityGate",
            "Type": "Condition",
            "Arguments": {
                "Conditions": [],
                "IfSteps": [{"Name": "RegisterModel", "Type": "RegisterModel", "Arguments": {}}],
                "ElseSteps": [{"Name": "QualityGateFailed", "Type": "Fail", "Arguments": {}}],
            },
        },
    ],
}
DEPLOYED = DeployedCode(
    environment="dev",
    contract=ContractRef(name="wine-quality", version="1.0.0", sha256="c" * 64),
    git_commit="0123abc",
    git_dirty=False,
    source_sha256="s" * 64,
)
PACKAGE = f"{JOBS}:model-package/keel-dev-models/3"


def _out(step: str, name: str) -> str:
    return f"s3://{REPORTS}/pipeline/keel-dev-training/abc123def456/{step}/{name}"


@pytest.fixture
def world() -> Iterator[dict[str, Any]]:
    with mock_aws():
        s3 = boto3.client("s3", region_name=REGION)
        for bucket in (REPORTS, RAW, ARTIFACTS):
            s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": REGION})
            s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
        sagemaker = boto3.client("sagemaker", region_name=REGION)
        stubber = Stubber(sagemaker)
        sources = RecordSources(sagemaker=sagemaker, s3=s3, reports_bucket=REPORTS, deployed=DEPLOYED)
        with stubber:
            yield {"s3": s3, "sagemaker": sagemaker, "stubber": stubber, "sources": sources}


def _land(s3: Any, key: str, body: bytes) -> str:
    return str(s3.put_object(Bucket=RAW, Key=key, Body=body)["VersionId"])


def _execution(
    stubber: Stubber, status: str, *, failure: str | None = None, description: str | None = None
) -> None:
    described: dict[str, Any] = {
        "PipelineArn": PIPELINE,
        "PipelineExecutionArn": EXECUTION,
        "PipelineExecutionDisplayName": "keel-s3-event-20261201T100000-1a2b3c4d",
        "PipelineExecutionStatus": status,
        "CreationTime": T0,
        "LastModifiedTime": T0 + timedelta(minutes=20),
    }
    if failure:
        described["FailureReason"] = failure
    if description:
        described["PipelineExecutionDescription"] = description
    stubber.add_response("describe_pipeline_execution", described, {"PipelineExecutionArn": EXECUTION})


def _definition_and_parameters(stubber: Stubber, given: list[dict[str, str]]) -> None:
    stubber.add_response(
        "describe_pipeline_definition_for_execution",
        {"PipelineDefinition": json.dumps(DEFINITION), "CreationTime": T0},
        {"PipelineExecutionArn": EXECUTION},
    )
    # Two pages: the paginator follows NextToken.
    stubber.add_response(
        "list_pipeline_parameters_for_execution",
        {"PipelineParameters": given[:1], "NextToken": "page-2"},
        {"PipelineExecutionArn": EXECUTION},
    )
    stubber.add_response(
        "list_pipeline_parameters_for_execution",
        {"PipelineParameters": given[1:]},
        {"PipelineExecutionArn": EXECUTION, "NextToken": "page-2"},
    )


def _processing_job(
    stubber: Stubber,
    step: str,
    outputs: list[str],
    *,
    inputs: list[dict[str, Any]] | None = None,
    failure: str | None = None,
    started: datetime = T0,
) -> None:
    name = f"pipelines-abc123def456-{step}"
    job: dict[str, Any] = {
        "ProcessingJobName": name,
        "ProcessingJobArn": f"{JOBS}:processing-job/{name.lower()}",
        "ProcessingResources": {
            "ClusterConfig": {"InstanceCount": 1, "InstanceType": "ml.m5.large", "VolumeSizeInGB": 30}
        },
        "AppSpecification": {
            "ImageUri": "111111111111.dkr.ecr.eu-west-1.amazonaws.com/keel-steps@sha256:" + "9" * 64
        },
        "ProcessingJobStatus": "Failed" if failure else "Completed",
        "CreationTime": started,
        "ProcessingStartTime": started,
        "ProcessingOutputConfig": {
            "Outputs": [
                {
                    "OutputName": output,
                    "S3Output": {
                        "S3Uri": _out(step, output),
                        "LocalPath": f"/opt/ml/processing/output/{output}",
                        "S3UploadMode": "EndOfJob",
                    },
                }
                for output in outputs
            ]
        },
    }
    if inputs:
        job["ProcessingInputs"] = inputs
    if failure:
        job["FailureReason"] = failure
    # The step names its job by ARN, whose name part SageMaker lower-cases; names are case-insensitive.
    stubber.add_response("describe_processing_job", job, {"ProcessingJobName": name.lower()})


def _steps(stubber: Stubber, steps: list[dict[str, Any]]) -> None:
    half = len(steps) // 2
    stubber.add_response(
        "list_pipeline_execution_steps",
        {"PipelineExecutionSteps": steps[:half], "NextToken": "next"},
        {"PipelineExecutionArn": EXECUTION, "SortOrder": "Ascending"},
    )
    stubber.add_response(
        "list_pipeline_execution_steps",
        {"PipelineExecutionSteps": steps[half:]},
        {"PipelineExecutionArn": EXECUTION, "SortOrder": "Ascending", "NextToken": "next"},
    )


def _step(
    name: str, status: str, minute: int, metadata: dict[str, Any], failure: str | None = None
) -> dict[str, Any]:
    step: dict[str, Any] = {
        "StepName": name,
        "StepStatus": status,
        "StartTime": T0 + timedelta(minutes=minute),
        "EndTime": T0 + timedelta(minutes=minute + 1),
        "Metadata": metadata,
    }
    if failure:
        step["FailureReason"] = failure
    return step


def _job_arn(kind: str, step: str) -> str:
    return f"{JOBS}:{kind}/pipelines-abc123def456-{step}".lower()


def _validate_input(uri: str) -> list[dict[str, Any]]:
    return [
        {
            "InputName": INPUT_NAME,
            "S3Input": {
                "S3Uri": uri,
                "LocalPath": "/opt/ml/processing/input/data",
                "S3DataType": "S3Prefix",
                "S3InputMode": "File",
                "S3DataDistributionType": "ShardedByS3Key",
            },
        }
    ]


def _put_json(s3: Any, uri: str, document: Any) -> None:
    bucket, key = uri[5:].split("/", 1)
    s3.put_object(Bucket=bucket, Key=key, Body=json.dumps(document).encode())


def test_a_succeeded_run_is_recorded_from_the_services_answers(world: dict[str, Any]) -> None:
    s3, stubber = world["s3"], world["stubber"]
    # Two files under the prefix when validation started; one deleted before; one landed after.
    first = _land(s3, "landing/a.csv", b"x,y\n1,2\n")
    second = _land(s3, "landing/b.csv", b"x,y\n3,4\n")
    _land(s3, "landing/gone.csv", b"x,y\n5,6\n")
    s3.delete_object(Bucket=RAW, Key="landing/gone.csv")
    started = s3.head_object(Bucket=RAW, Key="landing/b.csv")["LastModified"] + timedelta(seconds=1)
    validation = {"success": True, "rows": 2, "quarantined_rows": 0}
    evaluation = {"multiclass_classification_metrics": {"accuracy": {"value": 0.81}}}
    drift = {"drifted": False, "features": {"x": {"psi": 0.01, "histogram": [1, 2]}}}
    _put_json(s3, _out("CombineValidation", "validation") + "/summary.json", validation)
    _put_json(s3, _out("Evaluate", "evaluation") + "/evaluation.json", evaluation)
    _put_json(s3, _out("MeasureDrift", "drift") + "/drift_report.json", drift)
    description = json.dumps({"reason": "new data: 2 object(s)", "source": "s3-event", "event_id": "evt-1"})

    _execution(stubber, "Succeeded", description=description)
    _definition_and_parameters(
        stubber,
        [
            {"Name": "InputDataUri", "Value": f"s3://{RAW}/landing/"},
            {"Name": "TriggerReason", "Value": "new data: 2 object(s)"},
        ],
    )
    _steps(
        stubber,
        [
            _step(
                "ValidateData",
                "Succeeded",
                0,
                {"ProcessingJob": {"Arn": _job_arn("processing-job", "ValidateData")}},
            ),
            _step(
                "CombineValidation",
                "Succeeded",
                2,
                {"ProcessingJob": {"Arn": _job_arn("processing-job", "CombineValidation")}},
            ),
            _step("Train", "Succeeded", 4, {"TrainingJob": {"Arn": _job_arn("training-job", "Train")}}),
            _step(
                "Evaluate", "Succeeded", 6, {"ProcessingJob": {"Arn": _job_arn("processing-job", "Evaluate")}}
            ),
            _step(
                "MeasureDrift",
                "Succeeded",
                8,
                {"ProcessingJob": {"Arn": _job_arn("processing-job", "MeasureDrift")}},
            ),
            _step("QualityGate", "Succeeded", 10, {"Condition": {"Outcome": "True"}}),
            _step("RegisterModel", "Succeeded", 11, {"RegisterModel": {"Arn": PACKAGE}}),
        ],
    )
    _processing_job(
        stubber,
        "ValidateData",
        ["validation", "quarantine"],
        inputs=_validate_input(f"s3://{RAW}/landing/"),
        started=started,
    )
    _processing_job(stubber, "CombineValidation", ["validation"])
    model = (
        f"s3://{ARTIFACTS}/pipeline/keel-dev-training/models/pipelines-abc123def456-Train/output/model.tar.gz"
    )
    stubber.add_response(
        "describe_training_job",
        {
            "TrainingJobName": "pipelines-abc123def456-Train",
            "TrainingJobArn": _job_arn("training-job", "Train"),
            "ModelArtifacts": {"S3ModelArtifacts": model},
            "TrainingJobStatus": "Completed",
            "SecondaryStatus": "Completed",
            "AlgorithmSpecification": {"TrainingInputMode": "File", "TrainingImage": "img"},
            "ResourceConfig": {"VolumeSizeInGB": 30, "InstanceType": "ml.m5.large", "InstanceCount": 1},
            "StoppingCondition": {"MaxRuntimeInSeconds": 3600},
            "CreationTime": T0,
        },
        {"TrainingJobName": "pipelines-abc123def456-train"},
    )
    _processing_job(stubber, "Evaluate", ["evaluation"])
    _processing_job(stubber, "MeasureDrift", ["drift"])
    # Landed after validation started: not an input of this run (S3 times have one-second resolution).
    time.sleep(2.1)
    _land(s3, "landing/late.csv", b"x,y\n7,8\n")

    record = assemble_record(world["sources"], EXECUTION)
    stubber.assert_no_pending_responses()

    assert record.status == "Succeeded" and record.failure_reason is None
    assert record.execution_id == "abc123def456" and record.pipeline_name == "keel-dev-training"
    assert record.trigger.source == "s3-event" and record.trigger.event_id == "evt-1"
    assert record.parameters["MinAccuracy"] == 0.6 and record.parameters["HpNEstimators"] == 100
    assert [(i.uri.rsplit("/", 1)[-1], i.version_id) for i in record.inputs] == [
        ("a.csv", first),
        ("b.csv", second),
    ]
    assert record.inputs[0].sha256 == hashlib.sha256(b"x,y\n1,2\n").hexdigest()
    assert record.inputs[1].sha256 == hashlib.sha256(b"x,y\n3,4\n").hexdigest() and record.inputs[1].size == 8
    assert [s.name for s in record.steps][-2:] == ["QualityGate", "RegisterModel"]
    assert record.steps[5].detail == "outcome: True" and record.steps[5].type == "Condition"
    assert record.steps[0].job_name == "pipelines-abc123def456-validatedata"
    assert record.reports["Train.model"] == model
    assert record.reports["ValidateData.quarantine"] == _out("ValidateData", "quarantine")
    assert record.validation == validation and record.metrics == evaluation
    assert record.drift == {
        "drifted": False,
        "features": {"x": {"psi": 0.01}},
    }  # histograms stay in the report
    assert record.model_package_arn == PACKAGE
    assert record.code.image_uri.endswith("9" * 64) and record.code.git_commit == "0123abc"
    assert record.contract.name == "wine-quality"


def test_a_failed_run_is_recorded_with_what_it_did(world: dict[str, Any]) -> None:
    s3, stubber = world["s3"], world["stubber"]
    version = _land(s3, "landing/bad.csv", b"x,y\nabc,2\n")
    failure = "CombineValidation: 1 expectation failed: x: values must be numbers (1 row quarantined)"
    _put_json(
        s3,
        _out("CombineValidation", "validation") + "/summary.json",
        {"success": False, "quarantined_rows": 1},
    )
    _execution(stubber, "Failed", failure=failure)
    _definition_and_parameters(
        stubber,
        [
            {"Name": "InputDataUri", "Value": f"s3://{RAW}/landing/bad.csv"},
            {"Name": "InputObjectVersion", "Value": version},
        ],
    )
    _steps(
        stubber,
        [
            _step(
                "ValidateData",
                "Succeeded",
                0,
                {"ProcessingJob": {"Arn": _job_arn("processing-job", "ValidateData")}},
            ),
            _step(
                "CombineValidation",
                "Failed",
                2,
                {"ProcessingJob": {"Arn": _job_arn("processing-job", "CombineValidation")}},
                failure="AlgorithmError: validation failed",
            ),
        ],
    )
    _processing_job(
        stubber,
        "ValidateData",
        ["validation", "quarantine"],
        inputs=_validate_input(f"s3://{RAW}/landing/bad.csv"),
    )
    _processing_job(stubber, "CombineValidation", ["validation"], failure="AlgorithmError: validation failed")

    record = assemble_record(world["sources"], EXECUTION)

    assert record.status == "Failed" and record.failure_reason == failure
    assert [(s.name, s.status) for s in record.steps] == [
        ("ValidateData", "Succeeded"),
        ("CombineValidation", "Failed"),
    ]
    assert record.steps[1].detail == "AlgorithmError: validation failed"
    assert [(i.uri, i.version_id) for i in record.inputs] == [(f"s3://{RAW}/landing/bad.csv", version)]
    assert record.validation == {"success": False, "quarantined_rows": 1}
    assert record.metrics is None and record.drift is None and record.model_package_arn is None
    # No trigger record and no Keel description: the parameter alone, said plainly.
    assert record.trigger.source == "manual" and "no trigger record" in record.trigger.details["note"]


def test_a_running_execution_is_not_recorded_yet(world: dict[str, Any]) -> None:
    _execution(world["stubber"], "Executing")
    with pytest.raises(ExecutionNotEndedError, match="Executing"):
        assemble_record(world["sources"], EXECUTION)


def test_access_denied_fails_the_invocation_and_writes_nothing(world: dict[str, Any]) -> None:
    s3, stubber = world["s3"], world["stubber"]
    _execution(stubber, "Succeeded")
    _definition_and_parameters(
        stubber, [{"Name": "TriggerReason", "Value": "x"}, {"Name": "MinAccuracy", "Value": "0.7"}]
    )
    _steps(
        stubber,
        [
            _step(
                "ValidateData",
                "Succeeded",
                0,
                {"ProcessingJob": {"Arn": _job_arn("processing-job", "ValidateData")}},
            ),
            _step(
                "CombineValidation",
                "Succeeded",
                1,
                {"ProcessingJob": {"Arn": _job_arn("processing-job", "CombineValidation")}},
            ),
        ],
    )
    stubber.add_client_error(
        "describe_processing_job",
        service_error_code="AccessDeniedException",
        service_message="not authorized to perform sagemaker:DescribeProcessingJob",
        http_status_code=400,
        expected_params={"ProcessingJobName": ANY},
    )
    recorder = LineageRecorder(
        sources=world["sources"], events=_events(), kms_key_id="alias/keel-dev-artifacts"
    )
    with pytest.raises(ClientError, match="AccessDenied"):
        recorder.record(EXECUTION)
    assert s3.list_objects_v2(Bucket=REPORTS, Prefix="lineage/").get("KeyCount") == 0


def test_an_s3_error_other_than_no_such_key_is_not_an_absent_report(world: dict[str, Any]) -> None:
    """A throttled read is retried (standard retry mode) and then succeeds; a denied one is not 'absent'."""
    from keel.lineage.assemble import _read_json

    s3 = boto3.client(
        "s3", region_name=REGION, config=Config(retries={"mode": "standard", "max_attempts": 4})
    )
    uri = _out("Evaluate", "evaluation") + "/evaluation.json"
    _put_json(s3, uri, {"ok": 1})
    failures = {"left": 2}

    def slow_down(request: Any, **_: Any) -> AWSResponse | None:
        if failures["left"] and request.method == "GET":
            failures["left"] -= 1
            body = b"<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>"
            return AWSResponse(request.url, 503, {}, _Raw(body))
        return None

    s3.meta.events.register_first("before-send.s3.GetObject", slow_down)
    assert _read_json(s3, uri) == {"ok": 1} and failures["left"] == 0
    assert _read_json(s3, _out("Evaluate", "evaluation") + "/missing.json") is None

    def denied(request: Any, **_: Any) -> AWSResponse:
        body = b"<Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>"
        return AWSResponse(request.url, 403, {}, _Raw(body))

    s3.meta.events.register_first("before-send.s3.GetObject", denied)
    with pytest.raises(ClientError, match="AccessDenied"):
        _read_json(s3, uri)


class _Raw:
    def __init__(self, data: bytes) -> None:
        self.data = data

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self.data


def _events() -> Any:
    return boto3.client("events", region_name=REGION)


def test_the_record_is_written_encrypted_and_announced_to_the_gate(world: dict[str, Any]) -> None:
    s3 = world["s3"]
    kms = boto3.client("kms", region_name=REGION)
    key = kms.create_key()["KeyMetadata"]["Arn"]
    kms.create_alias(AliasName="alias/keel-dev-artifacts", TargetKeyId=key)
    events = _events()
    sqs = boto3.client("sqs", region_name=REGION)
    queue = sqs.create_queue(QueueName="gate")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    events.put_rule(Name="records", EventPattern=json.dumps({"detail-type": [RECORD_EVENT_DETAIL_TYPE]}))
    events.put_targets(Rule="records", Targets=[{"Id": "q", "Arn": queue_arn}])
    recorder = LineageRecorder(sources=world["sources"], events=events, kms_key_id="alias/keel-dev-artifacts")
    record = _minimal_record()

    uri = recorder.write(record)
    recorder.announce(record, uri)

    head = s3.head_object(Bucket=REPORTS, Key="lineage/executions/abc123def456.json")
    assert head["ServerSideEncryption"] == "aws:kms"
    body = s3.get_object(Bucket=REPORTS, Key="lineage/executions/abc123def456.json")["Body"].read()
    assert LineageRecord.model_validate_json(body) == record
    [message] = sqs.receive_message(QueueUrl=queue)["Messages"]
    detail = json.loads(message["Body"])["detail"]
    assert detail == {
        "ExecutionArn": EXECUTION,
        "ExecutionStatus": "Succeeded",
        "RecordUri": uri,
        "ModelPackageArn": PACKAGE,
    }


def test_a_refused_announcement_fails_the_invocation(world: dict[str, Any]) -> None:
    events = _events()
    stubber = Stubber(events)
    stubber.add_response(
        "put_events",
        {"FailedEntryCount": 1, "Entries": [{"ErrorCode": "InternalFailure", "ErrorMessage": "try again"}]},
    )
    recorder = LineageRecorder(sources=world["sources"], events=events, kms_key_id="alias/x")
    with stubber, pytest.raises(AnnouncementError, match="InternalFailure: try again"):
        recorder.announce(_minimal_record(), "s3://x/y")


def _minimal_record() -> LineageRecord:
    return LineageRecord(
        environment="dev",
        pipeline_name="keel-dev-training",
        pipeline_arn=PIPELINE,
        definition_sha256="d" * 64,
        execution_arn=EXECUTION,
        execution_id="abc123def456",
        status="Succeeded",
        failure_reason=None,
        started=T0.isoformat(),
        ended=T0.isoformat(),
        trigger={"reason": "r", "source": "cli"},  # type: ignore[arg-type]
        parameters={},
        contract=DEPLOYED.contract,
        code={"git_commit": None, "git_dirty": None, "source_sha256": "s", "image_uri": "i"},  # type: ignore[arg-type]
        inputs=[],
        steps=[],
        validation=None,
        metrics=None,
        drift=None,
        model_package_arn=PACKAGE,
    )


def test_the_names_it_reads_are_those_of_the_definition() -> None:
    """The step and property-file names the recorder looks for exist in Keel's pipeline definition."""
    from keel.config import load_environment
    from keel.contract import load_contract
    from pipeline_steps.definition import pipeline_definition

    definition = pipeline_definition(load_environment("local"), load_contract())
    files = {
        f"{step['Name']}.{item['PropertyFileName']}"
        for step in definition["Steps"]
        for item in step.get("PropertyFiles", [])
    }
    assert {VALIDATION_FILE, EVALUATION_FILE, DRIFT_FILE} <= files
    validate = next(s for s in definition["Steps"] if s["Name"] == INPUT_STEP)
    assert INPUT_NAME in [i["InputName"] for i in validate["Arguments"]["ProcessingInputs"]]
