"""Events on Keel's local AWS: EventBridge rules with Lambda targets keep matching events for the local
runner (`events-lambda-targets`), and the services moto leaves silent send theirs — CloudWatch alarm state
changes, SageMaker pipeline execution status changes and model package state changes."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable
from typing import Any

import pytest

from keel.local.lambda_events import LambdaEventsError, take_events

pytestmark = pytest.mark.integration


@pytest.fixture
def route(moto_server: Any) -> Callable[..., str]:
    """`route(pattern, **target)`: a default-bus rule whose target is a (not deployed) Lambda function."""
    events = moto_server.client("events")

    def make(pattern: dict[str, Any], **target: Any) -> str:
        name = f"keel-test-{uuid.uuid4().hex[:8]}"
        events.put_rule(Name=name, EventPattern=json.dumps(pattern))
        arn = f"arn:aws:lambda:{moto_server.region}:{moto_server.account_id}:function:{name}"
        events.put_targets(Rule=name, Targets=[{"Id": "fn", "Arn": arn, **target}])
        return name

    return make


def kept(moto_server: Any, function: str) -> list[dict[str, Any]]:
    return take_events(
        moto_server.endpoint_url, function, account=moto_server.account_id, region=moto_server.region
    )


def test_matching_events_are_kept_once_for_the_function(moto_server: Any, route: Callable[..., str]) -> None:
    source = f"keel.test.{uuid.uuid4().hex[:6]}"
    function = route({"source": [source], "detail-type": ["Thing Happened"]})
    events = moto_server.client("events")
    for detail_type in ("Thing Happened", "Other Thing"):
        events.put_events(Entries=[{"Source": source, "DetailType": detail_type, "Detail": '{"n": 1}'}])
    [delivered] = kept(moto_server, function)
    assert delivered["rule"] == function
    assert (delivered["event"]["source"], delivered["event"]["detail"]) == (source, {"n": 1})
    assert kept(moto_server, function) == []  # taken: not served twice


def test_target_input_shapes(moto_server: Any, route: Callable[..., str]) -> None:
    source = f"keel.test.{uuid.uuid4().hex[:6]}"
    pattern = {"source": [source]}
    constant = route(pattern, Input='{"fixed": true}')
    part = route(pattern, InputPath="$.detail")
    shaped = route(
        pattern, InputTransformer={"InputPathsMap": {"n": "$.detail.n"}, "InputTemplate": '{"count": <n>}'}
    )
    moto_server.client("events").put_events(
        Entries=[{"Source": source, "DetailType": "T", "Detail": '{"n": 7}'}]
    )
    assert [d["event"] for d in kept(moto_server, constant)] == [{"fixed": True}]
    assert [d["event"] for d in kept(moto_server, part)] == [{"n": 7}]
    assert [d["event"] for d in kept(moto_server, shaped)] == [{"count": 7}]


def test_other_targets_of_the_rule_are_still_delivered(moto_server: Any, route: Callable[..., str]) -> None:
    sqs, events = moto_server.client("sqs"), moto_server.client("events")
    source = f"keel.test.{uuid.uuid4().hex[:6]}"
    function = route({"source": [source]})
    url = sqs.create_queue(QueueName=function)["QueueUrl"]
    queue = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    events.put_targets(Rule=function, Targets=[{"Id": "queue", "Arn": queue}])
    events.put_events(Entries=[{"Source": source, "DetailType": "T", "Detail": "{}"}])
    assert len(kept(moto_server, function)) == 1
    assert len(sqs.receive_message(QueueUrl=url).get("Messages", [])) == 1


def test_s3_object_events_reach_the_function(moto_server: Any, route: Callable[..., str]) -> None:
    s3 = moto_server.client("s3")
    bucket = f"keel-test-{uuid.uuid4().hex[:8]}"
    s3.create_bucket(Bucket=bucket)
    s3.put_bucket_notification_configuration(
        Bucket=bucket, NotificationConfiguration={"EventBridgeConfiguration": {}}
    )
    function = route(
        {"source": ["aws.s3"], "detail-type": ["Object Created"], "detail": {"bucket": {"name": [bucket]}}}
    )
    s3.put_object(Bucket=bucket, Key="landing/a.csv", Body=b"a,b\n1,2\n")
    [delivered] = kept(moto_server, function)
    assert delivered["event"]["detail"]["object"]["key"] == "landing/a.csv"


def test_s3_events_have_the_shape_aws_documents(moto_server: Any, route: Callable[..., str]) -> None:
    """As in the S3 User Guide's EventBridge examples: etag, the API as reason, ISO time, one id per event,
    version-id for a versioned object only, deletion-type on Object Deleted, no tag event for an untagged
    object."""
    s3 = moto_server.client("s3")
    versioned, plain = (f"keel-test-{uuid.uuid4().hex[:8]}" for _ in range(2))
    for bucket in (versioned, plain):
        s3.create_bucket(Bucket=bucket)
        s3.put_bucket_notification_configuration(
            Bucket=bucket, NotificationConfiguration={"EventBridgeConfiguration": {}}
        )
    s3.put_bucket_versioning(Bucket=versioned, VersioningConfiguration={"Status": "Enabled"})
    function = route({"source": ["aws.s3"], "detail": {"bucket": {"name": [versioned, plain]}}})
    first = s3.put_object(Bucket=versioned, Key="a.csv", Body=b"a,b\n1,2\n")
    s3.put_object(Bucket=plain, Key="b.csv", Body=b"a,b\n3,4\n")
    s3.delete_object(Bucket=plain, Key="b.csv")
    created, unversioned, deleted = (item["event"] for item in kept(moto_server, function))
    assert created["detail-type"] == "Object Created" and created["source"] == "aws.s3"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", created["time"])
    assert created["resources"] == [f"arn:aws:s3:::{versioned}"]
    obj = created["detail"]["object"]
    assert obj["etag"] == first["ETag"].strip('"') and "eTag" not in obj
    assert obj["size"] == 8 and obj["version-id"] == first["VersionId"]
    assert created["detail"]["reason"] == "PutObject"
    assert "version-id" not in unversioned["detail"]["object"]
    assert deleted["detail-type"] == "Object Deleted" and deleted["detail"]["reason"] == "DeleteObject"
    assert deleted["detail"]["deletion-type"] == "Permanently Deleted"
    assert len({created["id"], unversioned["id"], deleted["id"]}) == 3


def test_alarm_state_changes_are_events(moto_server: Any, route: Callable[..., str]) -> None:
    cloudwatch = moto_server.client("cloudwatch")
    name = f"keel-test-{uuid.uuid4().hex[:8]}"
    function = route({"source": ["aws.cloudwatch"], "detail": {"alarmName": [name]}})
    cloudwatch.put_metric_alarm(
        AlarmName=name,
        AlarmDescription="drift",
        Namespace="Keel",
        MetricName="DriftedFeatureShare",
        Statistic="Maximum",
        Period=300,
        EvaluationPeriods=1,
        Threshold=0.25,
        ComparisonOperator="GreaterThanThreshold",
    )
    cloudwatch.set_alarm_state(AlarmName=name, StateValue="ALARM", StateReason="11 of 11 features drifted")
    [delivered] = kept(moto_server, function)
    event = delivered["event"]
    assert event["detail-type"] == "CloudWatch Alarm State Change"
    assert event["detail"]["state"]["value"] == "ALARM"
    assert event["detail"]["state"]["reason"] == "11 of 11 features drifted"
    assert event["detail"]["previousState"]["value"] == "INSUFFICIENT_DATA"


def test_pipeline_execution_status_changes_are_events(moto_server: Any, route: Callable[..., str]) -> None:
    from keel.local.runner.execution_status import report_execution_status

    sagemaker = moto_server.client("sagemaker")
    pipeline = f"keel-{uuid.uuid4().hex[:8]}-training"
    sagemaker.create_pipeline(
        PipelineName=pipeline,
        PipelineDefinition=json.dumps({"Version": "2020-12-01", "Steps": []}),
        RoleArn=f"arn:aws:iam::{moto_server.account_id}:role/keel-pipeline",
    )
    function = route(
        {
            "source": ["aws.sagemaker"],
            "detail-type": ["SageMaker Model Building Pipeline Execution Status Change"],
            "detail": {"pipelineArn": [{"suffix": f":pipeline/{pipeline}"}]},
        }
    )
    arn = sagemaker.start_pipeline_execution(PipelineName=pipeline, PipelineExecutionDisplayName="keel-t")[
        "PipelineExecutionArn"
    ]
    report_execution_status(sagemaker, arn, "Failed", failure_reason="Validate: 2 rows")
    statuses = [
        (
            d["event"]["detail"]["previousPipelineExecutionStatus"],
            d["event"]["detail"]["currentPipelineExecutionStatus"],
        )
        for d in kept(moto_server, function)
    ]
    assert statuses == [(None, "Executing"), ("Executing", "Failed")]


def test_model_package_changes_are_events_and_updates_keep_metadata(
    moto_server: Any, route: Callable[..., str]
) -> None:
    sagemaker = moto_server.client("sagemaker")
    group = f"keel-{uuid.uuid4().hex[:8]}-models"
    sagemaker.create_model_package_group(ModelPackageGroupName=group)
    function = route({"source": ["aws.sagemaker"], "detail": {"ModelPackageGroupName": [group]}})
    arn = sagemaker.create_model_package(
        ModelPackageGroupName=group,
        ModelApprovalStatus="PendingManualApproval",
        CustomerMetadataProperties={"keel:execution_id": "abc"},
        InferenceSpecification={
            "Containers": [{"Image": "123456789012.dkr.ecr.us-east-1.amazonaws.com/keel:1"}],
            "SupportedContentTypes": ["text/csv"],
            "SupportedResponseMIMETypes": ["text/csv"],
        },
    )["ModelPackageArn"]
    sagemaker.update_model_package(
        ModelPackageArn=arn, ModelApprovalStatus="Approved", ApprovalDescription="gate: all passed"
    )
    sagemaker.update_model_package(ModelPackageArn=arn, CustomerMetadataProperties={"keel:gate": "d-1"})
    described = sagemaker.describe_model_package(ModelPackageName=arn)
    assert described["ModelApprovalStatus"] == "Approved"
    assert described["ApprovalDescription"] == "gate: all passed"
    assert described["CustomerMetadataProperties"] == {"keel:execution_id": "abc", "keel:gate": "d-1"}
    details = [d["event"]["detail"] for d in kept(moto_server, function)]
    assert [d["ModelApprovalStatus"] for d in details] == ["PendingManualApproval", "Approved", "Approved"]
    assert all(d["ModelPackageArn"] == arn and d["ModelPackageVersion"] == 1 for d in details)


def test_only_loopback_endpoints_are_asked() -> None:
    with pytest.raises(LambdaEventsError, match="not Keel's local AWS"):
        take_events("https://keel.example.invalid", "f", account="1", region="us-east-1")


def test_schedule_and_disabled_rules_receive_no_events(moto_server: Any) -> None:
    events = moto_server.client("events")
    source = f"keel.test.{uuid.uuid4().hex[:6]}"
    names = {
        "schedule": {"ScheduleExpression": "rate(1 minute)"},
        "disabled": {"EventPattern": json.dumps({"source": [source]}), "State": "DISABLED"},
        "matching": {"EventPattern": json.dumps({"source": [source]})},
    }
    for suffix, rule in names.items():
        name = f"keel-test-{suffix}-{source[-6:]}"
        events.put_rule(Name=name, **rule)
        arn = f"arn:aws:lambda:{moto_server.region}:{moto_server.account_id}:function:{name}"
        events.put_targets(Rule=name, Targets=[{"Id": "fn", "Arn": arn}])
    events.put_events(Entries=[{"Source": source, "DetailType": "T", "Detail": "{}"}])
    received = {suffix: len(kept(moto_server, f"keel-test-{suffix}-{source[-6:]}")) for suffix in names}
    assert received == {"schedule": 0, "disabled": 0, "matching": 1}
