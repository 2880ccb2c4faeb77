"""The four feedback loops end to end on the local server, through the Lambda handlers as the local runner
calls them: configured by the stack's environment variables, boto3 pointed at the server.

Where the local server delivers events itself (S3 -> EventBridge rule with the stack's pattern -> SQS), the
test takes them from there; CloudWatch alarm state changes are not emitted by it, so the alarm event is
built from DescribeAlarms after `set_alarm_state`, as the local runner does.
"""

from __future__ import annotations

import csv
import importlib
import io
import json
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest

from keel.config import EnvironmentConfig, load_environment
from keel.contract import load_contract
from keel.feedback import patterns
from keel.feedback.events import (
    alarm_state_change_event,
    api_correction_event,
    kinesis_event_from_records,
    scheduled_event,
)
from keel.feedback.fixtures import create_feedback_resources
from keel.feedback.names import FEEDBACK_ACCURACY_METRIC, INCOMING_PREFIX, FeedbackFunction
from keel.feedback.runtime import LocalContext
from keel.feedback.settings import function_environment
from keel.naming import METRICS_NAMESPACE, AlarmKind, BucketPurpose, alarm_name, bucket_name, pipeline_name

pytestmark = pytest.mark.integration

CONTRACT = load_contract()
ROW = {
    "fixed acidity": 7.0,
    "volatile acidity": 0.27,
    "citric acid": 0.36,
    "residual sugar": 20.7,
    "chlorides": 0.045,
    "free sulfur dioxide": 45.0,
    "total sulfur dioxide": 170.0,
    "density": 1.001,
    "pH": 3.0,
    "sulphates": 0.45,
    "alcohol": 8.8,
    "quality": 6,
}


@pytest.fixture
def local(moto_server: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., Any]]:
    """`handler(function, **env overrides)`: the handler module, configured for the local server."""
    config = load_environment("local")
    create_feedback_resources(boto3.session.Session(region_name=config.region), config)
    modules: list[Any] = []

    def handler(function: FeedbackFunction, **overrides: str) -> Any:
        for key, value in (function_environment(config, function) | overrides).items():
            monkeypatch.setenv(key, value)
        module = importlib.import_module(f"lambdas.{function.value}.handler")
        module.runtime.set(None)
        modules.append(module)
        return module

    yield handler
    for module in modules:
        module.runtime.set(None)


def invoke(module: Any, event: Any) -> Any:
    return module.lambda_handler(event, LocalContext(function_name=module.__name__.split(".")[1]))


def executions(moto_server: Any, config: EnvironmentConfig) -> list[str]:
    summaries = moto_server.client("sagemaker").list_pipeline_executions(PipelineName=pipeline_name(config))
    return [s["PipelineExecutionArn"] for s in summaries["PipelineExecutionSummaries"]]


def parameters(moto_server: Any, arn: str) -> dict[str, str]:
    answer = moto_server.client("sagemaker").list_pipeline_parameters_for_execution(PipelineExecutionArn=arn)
    return {p["Name"]: p["Value"] for p in answer["PipelineParameters"]}


def route_to_queue(moto_server: Any, bucket: str, pattern: dict[str, Any]) -> str:
    """S3 -> EventBridge (as the data stack sets the bucket) -> a rule with the stack's pattern -> SQS."""
    s3, events, sqs = (moto_server.client(s) for s in ("s3", "events", "sqs"))
    s3.put_bucket_notification_configuration(
        Bucket=bucket, NotificationConfiguration={"EventBridgeConfiguration": {}}
    )
    name = f"keel-test-{uuid.uuid4().hex[:8]}"
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    events.put_rule(Name=name, EventPattern=json.dumps(pattern))
    events.put_targets(Rule=name, Targets=[{"Id": "queue", "Arn": arn}])
    return url


def delivered(moto_server: Any, url: str, expected: int) -> list[dict[str, Any]]:
    sqs = moto_server.client("sqs")
    bodies: list[dict[str, Any]] = []
    deadline = time.monotonic() + 10
    while len(bodies) < expected and time.monotonic() < deadline:
        for message in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", []):
            bodies.append(json.loads(message["Body"]))
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    return bodies


def test_landed_objects_start_one_execution_on_their_partition(moto_server: Any, local: Any) -> None:
    config = load_environment("local")
    raw = bucket_name(config, BucketPurpose.RAW)
    url = route_to_queue(moto_server, raw, patterns.landed_data(config, CONTRACT))
    module = local(FeedbackFunction.DATA_TRIGGER, KEEL_DEBOUNCE_SECONDS="5")
    s3 = moto_server.client("s3")
    folder = f"{CONTRACT.landing_prefix}ingest_date=2026-11-02/run-{uuid.uuid4().hex[:6]}/"
    versions = {
        f"{folder}part-{i}.csv": s3.put_object(Bucket=raw, Key=f"{folder}part-{i}.csv", Body=b"a,b\n1,2\n")[
            "VersionId"
        ]
        for i in range(3)
    }
    s3.put_object(Bucket=raw, Key="elsewhere/ignored.csv", Body=b"x")  # not routed: outside the pattern
    events = delivered(moto_server, url, 3)
    assert sorted(e["detail"]["object"]["key"] for e in events) == sorted(versions)
    before = set(executions(moto_server, config))
    for event in events + events:  # every event delivered twice
        invoke(module, event)
    time.sleep(5.5)  # the window (5 s from the first object's event time) is over
    result = invoke(module, scheduled_event("arn:aws:events:us-east-1:123456789012:rule/sweep"))
    [started] = result["started"]
    assert set(executions(moto_server, config)) - before == {started}
    given = parameters(moto_server, started)
    assert given["InputDataUri"] == f"s3://{raw}/{folder}"
    record = json.loads(
        s3.get_object(
            Bucket=bucket_name(config, BucketPurpose.REPORTS),
            Key=f"lineage/triggers/{started.rsplit('/', 1)[-1]}.json",
        )["Body"].read()
    )
    assert {o["uri"]: o["version_id"] for o in record["trigger"]["details"]["objects"]} == {
        f"s3://{raw}/{key}": version for key, version in versions.items()
    }
    for event in events:  # redelivered after the start: still one execution
        invoke(module, event)
    assert set(executions(moto_server, config)) - before == {started}


def test_streamed_records_land_partitioned_and_start_retraining_once(moto_server: Any, local: Any) -> None:
    config = load_environment("local")
    kinesis = moto_server.client("kinesis")
    stream = f"keel-test-{uuid.uuid4().hex[:8]}"
    kinesis.create_stream(StreamName=stream, ShardCount=1)
    description = kinesis.describe_stream(StreamName=stream)["StreamDescription"]
    payloads = [json.dumps({**ROW, "quality": 5 + i % 3}).encode() for i in range(6)] + [b'{"quality": 42}']
    kinesis.put_records(StreamName=stream, Records=[{"Data": p, "PartitionKey": "k"} for p in payloads])
    shard = description["Shards"][0]["ShardId"]
    iterator = kinesis.get_shard_iterator(StreamName=stream, ShardId=shard, ShardIteratorType="TRIM_HORIZON")
    records = kinesis.get_records(ShardIterator=iterator["ShardIterator"])["Records"]
    event = kinesis_event_from_records(records, stream_arn=description["StreamARN"], shard_id=shard)
    module = local(FeedbackFunction.STREAM_INGEST, KEEL_RETRAIN_AFTER_RECORDS="6")
    before = set(executions(moto_server, config))
    assert invoke(module, event) == {"batchItemFailures": []}
    assert invoke(module, event) == {"batchItemFailures": []}  # redelivered batch
    new = set(executions(moto_server, config)) - before
    assert len(new) == 1
    assert "new valid streamed records" in parameters(moto_server, new.pop())["TriggerReason"]
    raw = bucket_name(config, BucketPurpose.RAW)
    day = f"{records[0]['ApproximateArrivalTimestamp'].astimezone(UTC):%Y-%m-%d}"
    key = f"{CONTRACT.landing_prefix}ingest_date={day}/stream-{shard}-{records[0]['SequenceNumber']}.csv"
    rows = list(
        csv.DictReader(
            io.StringIO(moto_server.client("s3").get_object(Bucket=raw, Key=key)["Body"].read().decode())
        )
    )
    assert len(rows) == 6 and list(rows[0]) == [c.header for c in CONTRACT.columns]


def test_an_alarm_in_alarm_state_starts_retraining_once(moto_server: Any, local: Any) -> None:
    config = load_environment("local")
    cloudwatch = moto_server.client("cloudwatch")
    names = [
        alarm_name(config, AlarmKind.DRIFT, f"alcohol-{uuid.uuid4().hex[:6]}"),
        alarm_name(config, AlarmKind.MODEL_QUALITY, f"accuracy-{uuid.uuid4().hex[:6]}"),
    ]
    for name in names:
        cloudwatch.put_metric_alarm(
            AlarmName=name,
            Namespace=METRICS_NAMESPACE,
            MetricName="FeaturePsi",
            Dimensions=[{"Name": "Environment", "Value": config.name}],
            Statistic="Maximum",
            Period=300,
            EvaluationPeriods=1,
            Threshold=0.2,
            ComparisonOperator="GreaterThanThreshold",
        )
        cloudwatch.set_alarm_state(AlarmName=name, StateValue="ALARM", StateReason="PSI 0.31 > 0.2")
    alarms = {a["AlarmName"]: a for a in cloudwatch.describe_alarms(AlarmNames=names)["MetricAlarms"]}
    assert all(a["StateValue"] == "ALARM" for a in alarms.values())
    module = local(FeedbackFunction.PERFORMANCE_TRIGGER, KEEL_RETRAIN_COOLDOWN_SECONDS="3600")
    events = [alarm_state_change_event(alarms[name]) for name in names]
    before = set(executions(moto_server, config))
    outcomes = [invoke(module, event)["status"] for event in (events[0], events[0], events[1])]
    # the first alarm starts; its redelivery answers the same; the second alarm is within the cool-down
    assert outcomes == ["started", "started", "suppressed"]
    [started] = set(executions(moto_server, config)) - before
    assert parameters(moto_server, started)["TriggerReason"].startswith(f"alarm {names[0]}: PSI 0.31 > 0.2")


def test_a_correction_is_stored_and_the_model_quality_metric_published(moto_server: Any, local: Any) -> None:
    config = load_environment("local")
    module = local(FeedbackFunction.FEEDBACK_INGEST)
    prediction = f"p-{uuid.uuid4().hex[:8]}"
    body = {"prediction_id": prediction, "predicted": 6, "corrected_label": 5, "reviewer": "alice"}
    response = invoke(module, api_correction_event(body))
    assert response["statusCode"] == 201, response
    feedback = bucket_name(config, BucketPurpose.FEEDBACK)
    url = route_to_queue(moto_server, feedback, patterns.reviewer_files(config))
    line = json.dumps({**body, "prediction_id": f"{prediction}-file", "corrected_label": 6})
    moto_server.client("s3").put_object(
        Bucket=feedback, Key=f"{INCOMING_PREFIX}{prediction}.jsonl", Body=line.encode()
    )
    [event] = delivered(moto_server, url, 1)
    assert invoke(module, event)["stored"] == 1
    now = datetime.now(UTC)
    datapoints = moto_server.client("cloudwatch").get_metric_statistics(
        Namespace=METRICS_NAMESPACE,
        MetricName=FEEDBACK_ACCURACY_METRIC,
        Dimensions=[{"Name": "Environment", "Value": config.name}],
        StartTime=now - timedelta(hours=1),
        EndTime=now + timedelta(hours=1),
        Period=3600,
        Statistics=["SampleCount", "Sum"],
    )["Datapoints"]
    assert sum(d["SampleCount"] for d in datapoints) >= 2
    assert sum(d["Sum"] for d in datapoints) >= 1
