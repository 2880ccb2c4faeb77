"""Human feedback: the API and file drops, uniqueness per prediction and reviewer, the catalogued dataset,
the model-quality metric, and the merge of corrections with captured inputs."""

from __future__ import annotations

import csv
import io
import json
from datetime import timedelta

import pytest

from keel.feedback.events import api_correction_event, s3_object_created_event
from keel.feedback.merge import S3CapturedInputs
from keel.feedback.names import CORRECTIONS_PREFIX, FEEDBACK_ACCURACY_METRIC, INCOMING_PREFIX
from keel.naming import METRICS_NAMESPACE, QUARANTINE_PREFIX, glue_database_name
from tests.unit.feedback.conftest import START, Aws, throttling

REVIEWER_ARN = "arn:aws:iam::123456789012:user/alice"


def correction(prediction_id: str = "p-1", predicted: int = 6, corrected: int = 5, **extra: object) -> dict:
    return {
        "prediction_id": prediction_id,
        "predicted": predicted,
        "corrected_label": corrected,
        "reviewer": "alice",
        **extra,
    }


def submit(ingest, body: object) -> tuple[int, dict]:
    response = ingest.handle(api_correction_event(body, principal_arn=REVIEWER_ARN, time=START))
    return response["statusCode"], json.loads(response["body"])


def accuracy_samples(aws: Aws) -> tuple[float, float]:
    """(sum, sample count) of FeedbackAccuracy published for the environment."""
    statistics = aws.client("cloudwatch").get_metric_statistics(
        Namespace=METRICS_NAMESPACE,
        MetricName=FEEDBACK_ACCURACY_METRIC,
        Dimensions=[{"Name": "Environment", "Value": aws.config.name}],
        StartTime=START - timedelta(days=1),
        EndTime=START + timedelta(days=1),
        Period=86400 * 2,
        Statistics=["Sum", "SampleCount"],
    )["Datapoints"]
    return sum(d["Sum"] for d in statistics), sum(d["SampleCount"] for d in statistics)


def stored_rows(aws: Aws, bucket: str) -> list[dict[str, str]]:
    rows = []
    for key in aws.keys(bucket, CORRECTIONS_PREFIX):
        rows += list(csv.DictReader(io.StringIO(aws.read(bucket, key).decode())))
    return rows


def test_a_correction_is_stored_catalogued_and_counted(aws: Aws) -> None:
    ingest = aws.feedback_ingest()
    status, body = submit(ingest, correction(comment="too sweet"))
    assert (status, body["status"]) == (201, "stored")
    bucket = ingest.settings.feedback_bucket
    [row] = stored_rows(aws, bucket)
    assert row["prediction_id"] == "p-1" and row["corrected_label"] == "5" and row["predicted"] == "6"
    assert row["submitted_by"] == REVIEWER_ARN and row["source"] == "api" and row["comment"] == "too sweet"
    assert row["training_row_uri"] == ""
    assert aws.keys(bucket, CORRECTIONS_PREFIX)[0].startswith(f"{CORRECTIONS_PREFIX}ingest_date=2026-11-02/")
    glue = aws.client("glue")
    partitions = glue.get_partitions(
        DatabaseName=glue_database_name(aws.config), TableName=ingest.settings.glue_table
    )
    assert [p["Values"] for p in partitions["Partitions"]] == [["2026-11-02"]]
    assert accuracy_samples(aws) == (0.0, 1.0)


def test_one_correction_per_prediction_and_reviewer(aws: Aws) -> None:
    ingest = aws.feedback_ingest()
    assert submit(ingest, correction())[0] == 201
    assert submit(ingest, correction())[0] == 201  # an identical retry gets the same answer
    status, body = submit(ingest, correction(corrected=4))
    assert (status, body["status"]) == (409, "duplicate")
    assert submit(ingest, {**correction(corrected=6), "reviewer": "bob"})[0] == 201  # another reviewer
    assert len(stored_rows(aws, ingest.settings.feedback_bucket)) == 2
    assert accuracy_samples(aws) == (1.0, 2.0)


@pytest.mark.parametrize(
    ("body", "error"),
    [
        (correction(corrected=11), "corrected_label: 11 is not an allowed value"),
        (correction(predicted="six"), "predicted: expected a number"),
        ({**correction(), "extra": 1}, "unknown field 'extra'"),
        ({"prediction_id": "p"}, "reviewer: required"),
        (correction(prediction_id="-bad id"), "prediction_id"),
        ("{not json", "Expecting property name"),
        ([1, 2], "expected a JSON object"),
    ],
)
def test_invalid_corrections_are_refused_with_the_reason(aws: Aws, body: object, error: str) -> None:
    status, answer = submit(aws.feedback_ingest(), body)
    assert status == 400 and error in answer["errors"]


def test_oversized_and_non_post_requests_are_refused(aws: Aws) -> None:
    ingest = aws.feedback_ingest()
    assert submit(ingest, correction(comment="x" * 70_000))[0] == 413
    event = api_correction_event(correction())
    event["httpMethod"] = "GET"
    assert ingest.handle(event)["statusCode"] == 405


def test_a_failed_publish_answers_503_and_the_retry_stores_and_counts_once(aws: Aws) -> None:
    class Flaky:
        calls = 0

        def publish(self, *args, **kwargs):
            Flaky.calls += 1
            if Flaky.calls == 1:
                raise throttling("PutMetricData")
            real.publish(*args, **kwargs)

    real = aws.adapters().publisher
    ingest = aws.feedback_ingest(aws.adapters(publisher=Flaky()))
    assert submit(ingest, correction())[0] == 503
    assert submit(ingest, correction())[0] == 201
    assert len(stored_rows(aws, ingest.settings.feedback_bucket)) == 1
    assert accuracy_samples(aws) == (0.0, 1.0)


def test_a_reviewer_file_is_validated_deduplicated_and_stored(aws: Aws) -> None:
    ingest = aws.feedback_ingest()
    bucket = ingest.settings.feedback_bucket
    assert submit(ingest, correction("p-0"))[0] == 201
    lines = [
        json.dumps(correction("p-0")),  # already stored through the API
        json.dumps(correction("p-1", predicted=6, corrected=6)),
        json.dumps(correction("p-2")),
        json.dumps(correction("p-2")),  # twice in this file
        json.dumps(correction("p-3", corrected=42)),
        "not json",
    ]
    key = f"{INCOMING_PREFIX}batch-1.jsonl"
    body = ("\n".join(lines) + "\n").encode()
    version = aws.put(bucket, key, body)
    event = s3_object_created_event(bucket, key, version_id=version, size=len(body), time=START)
    result = ingest.handle(event)
    assert (result["stored"], result["duplicates"], result["rejected"]) == (2, 1, 3)
    assert ingest.handle(event) == result  # a redelivered event: the stored answer
    assert sorted(r["prediction_id"] for r in stored_rows(aws, bucket)) == ["p-0", "p-1", "p-2"]
    [note] = aws.keys(bucket, QUARANTINE_PREFIX)
    reasons = [json.loads(line)["reason"] for line in aws.read(bucket, note).decode().splitlines()]
    assert reasons[0] == "duplicate in this file"
    assert "corrected_label: 42" in reasons[1] and "not JSON" in reasons[2]
    assert accuracy_samples(aws) == (1.0, 3.0)


def test_a_csv_file_of_corrections(aws: Aws) -> None:
    ingest = aws.feedback_ingest()
    bucket = ingest.settings.feedback_bucket
    body = b"prediction_id,predicted,corrected_label,reviewer,comment\np-9,5,7,carol,\n"
    version = aws.put(bucket, f"{INCOMING_PREFIX}c.csv", body)
    event = s3_object_created_event(bucket, f"{INCOMING_PREFIX}c.csv", version_id=version, size=len(body))
    assert ingest.handle(event)["stored"] == 1
    assert stored_rows(aws, bucket)[0]["corrected_label"] == "7"


@pytest.mark.parametrize(
    ("key", "size", "reason"),
    [
        ("elsewhere/a.jsonl", 10, "not a feedback file"),
        (f"{INCOMING_PREFIX}a.parquet", 10, "unsupported file type"),
        (f"{INCOMING_PREFIX}a.jsonl", 0, "file size"),
    ],
)
def test_files_outside_the_contract_are_rejected(aws: Aws, key: str, size: int, reason: str) -> None:
    ingest = aws.feedback_ingest()
    event = s3_object_created_event(ingest.settings.feedback_bucket, key, version_id="v", size=size)
    result = ingest.handle(event)
    assert result["status"] == "rejected" and reason in result["reason"]


def test_an_unreadable_file_fails_for_retry(aws: Aws) -> None:
    ingest = aws.feedback_ingest()
    bucket = ingest.settings.feedback_bucket
    event = s3_object_created_event(bucket, f"{INCOMING_PREFIX}gone.jsonl", version_id=None, size=10)
    with pytest.raises(Exception, match="NoSuchKey"):
        ingest.handle(event)


def test_corrections_with_captured_inputs_become_training_rows(aws: Aws) -> None:
    ingest = aws.feedback_ingest()
    bucket = ingest.settings.feedback_bucket
    capture = {
        "captureData": {
            "endpointInput": {
                "observedContentType": "text/csv",
                "mode": "INPUT",
                "data": "7.0,0.27,0.36,20.7,0.045,45.0,170.0,1.001,3.0,0.45,8.8",
                "encoding": "CSV",
            }
        },
        "eventMetadata": {"eventId": "e", "inferenceId": "p-1", "inferenceTime": "2026-11-02T09:00:00Z"},
        "eventVersion": "0",
    }
    aws.put(
        bucket, "capture/keel-local-endpoint/AllTraffic/2026/11/02/09/a.jsonl", json.dumps(capture).encode()
    )
    captured = S3CapturedInputs(ingest.objects, f"s3://{bucket}/capture/", ingest.dataset)
    ingest = aws.feedback_ingest(captured=captured)
    assert submit(ingest, correction("p-1", predicted=6, corrected=5))[0] == 201
    assert submit(ingest, correction("p-2"))[0] == 201  # no captured input: stored, not merged
    raw = ingest.settings.raw_bucket
    [training] = aws.keys(raw, ingest.dataset.landing_prefix)
    assert training.rsplit("/", 1)[-1].startswith("feedback-api-")
    rows = list(csv.DictReader(io.StringIO(aws.read(raw, training).decode())))
    assert rows == [
        {**{c.header: row for c, row in zip(ingest.dataset.columns, rows[0].values(), strict=True)}}
    ]
    assert rows[0]["quality"] == "5" and rows[0]["fixed acidity"] == "7.0"
    metadata = aws.client("s3").head_object(Bucket=raw, Key=training)["Metadata"]
    assert metadata["keel-corrections"].startswith(f"s3://{bucket}/{CORRECTIONS_PREFIX}")
    by_id = {r["prediction_id"]: r for r in stored_rows(aws, bucket)}
    assert by_id["p-1"]["training_row_uri"] == f"s3://{raw}/{training}"
    assert by_id["p-2"]["training_row_uri"] == ""
