"""Streaming trigger: per-record validation, Hive-partitioned micro-batches, quarantine with reasons, retries
without duplicate rows, and one retraining per `retrain_after_records` new valid records."""

from __future__ import annotations

import csv
import io
import json

import pytest

from keel.contract import load_contract
from keel.feedback.events import kinesis_event
from keel.feedback.names import ingest_stream_name
from keel.naming import QUARANTINE_PREFIX, glue_database_name
from tests.unit.feedback.conftest import START, Aws, FlakyStarter

CONTRACT = load_contract()
DAY = f"{START:%Y-%m-%d}"
FOLDER = f"{CONTRACT.landing_prefix}ingest_date={DAY}/"


def row(quality: int = 6, **changes: object) -> dict[str, object]:
    values: dict[str, object] = {
        "fixed_acidity": 7.0,
        "volatile_acidity": 0.27,
        "citric_acid": 0.36,
        "residual_sugar": 20.7,
        "chlorides": 0.045,
        "free_sulfur_dioxide": 45.0,
        "total_sulfur_dioxide": 170.0,
        "density": 1.001,
        "ph": 3.0,
        "sulphates": 0.45,
        "alcohol": 8.8,
        "quality": quality,
    }
    values.update(changes)
    return {k: v for k, v in values.items() if v is not None}


def batch(aws: Aws, payloads: list[bytes], first: int = 1) -> dict:
    arn = f"arn:aws:kinesis:us-east-1:123456789012:stream/{ingest_stream_name(aws.config)}"
    return kinesis_event(payloads, stream_arn=arn, first_sequence=first, arrival=aws.clock())


def encode(*rows: dict) -> list[bytes]:
    return [json.dumps(r).encode() for r in rows]


def csv_rows(aws: Aws, bucket: str, key: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(aws.read(bucket, key).decode())))


def test_valid_records_land_partitioned_with_raw_headers_and_invalid_ones_are_quarantined(aws: Aws) -> None:
    ingest = aws.stream_ingest()
    raw = ingest.settings.raw_bucket
    payloads = [
        *encode(row(), row(quality=7, **{"fixed acidity": 6.3, "fixed_acidity": None})),
        *encode(row(quality=11), row(ph=None), {**row(), "colour": "red"}),
        b"not json",
        b"[1, 2]",
    ]
    assert ingest.handle(batch(aws, payloads)) == {"batchItemFailures": []}
    [key] = aws.keys(raw, FOLDER)
    assert key.rsplit("/", 1)[-1].startswith("stream-shardId-000000000000-")
    rows = csv_rows(aws, raw, key)
    assert list(rows[0]) == [c.header for c in CONTRACT.columns]
    assert [(r["fixed acidity"], r["quality"]) for r in rows] == [("7.0", "6"), ("6.3", "7")]
    [note] = aws.keys(raw, QUARANTINE_PREFIX)
    kept = [json.loads(line) for line in aws.read(raw, note).decode().splitlines()]
    reasons = [k["reason"] for k in kept]
    assert len(kept) == 5
    assert "quality: 11 is not an allowed value" in reasons[0]
    assert "ph: required" in reasons[1]
    assert "unknown field 'colour'" in reasons[2]
    assert reasons[3].startswith("not JSON")
    assert reasons[4] == "expected a JSON object, got list"
    assert all(k["sequence_number"] and k["sha256"] for k in kept)
    partitions = aws.client("glue").get_partitions(
        DatabaseName=glue_database_name(aws.config), TableName=ingest.settings.glue_table
    )["Partitions"]
    assert [p["Values"] for p in partitions] == [[DAY]]
    assert partitions[0]["StorageDescriptor"]["Location"] == f"s3://{raw}/{FOLDER}"


def test_oversized_and_malformed_records_are_quarantined_not_retried(aws: Aws) -> None:
    ingest = aws.stream_ingest()
    event = batch(aws, [b"{" + b" " * (300 * 1024) + b"}", *encode(row())])
    event["Records"].append({"kinesis": "broken"})
    assert ingest.handle(event) == {"batchItemFailures": []}
    [note] = aws.keys(ingest.settings.raw_bucket, QUARANTINE_PREFIX)
    kept = [json.loads(line) for line in aws.read(ingest.settings.raw_bucket, note).decode().splitlines()]
    assert kept[0]["reason"].startswith("oversized") and kept[0]["truncated"] is True
    assert kept[1]["reason"].startswith("malformed Kinesis record")


def test_a_retried_batch_replaces_its_objects_and_is_counted_once(aws: Aws) -> None:
    ingest = aws.stream_ingest(retrain_after_records=1000)
    event = batch(aws, encode(*(row() for _ in range(10))))
    ingest.handle(event)
    ingest.handle(event)
    [key] = aws.keys(ingest.settings.raw_bucket, FOLDER)
    assert len(csv_rows(aws, ingest.settings.raw_bucket, key)) == 10
    assert ingest.state.training_state(CONTRACT.name).pending_records == 10


def test_records_after_a_failing_record_are_reported_and_not_written(aws: Aws) -> None:
    ingest = aws.stream_ingest()
    original = ingest.check
    calls = []

    def check(raw):  # a bug on the third record: it and every later record come back from Kinesis
        calls.append(raw)
        if len(calls) == 3:
            raise RuntimeError("bug")
        return original(raw)

    ingest.check = check
    event = batch(aws, encode(*(row() for _ in range(5))))
    result = ingest.handle(event)
    sequences = [r["kinesis"]["sequenceNumber"] for r in event["Records"]]
    assert [f["itemIdentifier"] for f in result["batchItemFailures"]] == sequences[2:]
    [key] = aws.keys(ingest.settings.raw_bucket, FOLDER)
    assert len(csv_rows(aws, ingest.settings.raw_bucket, key)) == 2


def test_retraining_starts_once_per_threshold(aws: Aws) -> None:
    ingest = aws.stream_ingest(retrain_after_records=25)
    for number in range(6):  # 6 batches x 10 valid records: thresholds crossed at 30 and 60
        ingest.handle(batch(aws, encode(*(row() for _ in range(10))), first=1 + number * 10))
    executions = aws.executions()
    assert len(executions) == 2
    parameters = aws.parameters(executions[0]["PipelineExecutionArn"])
    assert parameters["InputDataUri"] == f"s3://{ingest.settings.raw_bucket}/{CONTRACT.landing_prefix}"
    assert "new valid streamed records" in parameters["TriggerReason"]
    state = ingest.state.training_state(CONTRACT.name)
    assert state.pending_records == 0 and state.generation == 2


def test_throttled_retraining_start_fails_the_batch_and_the_retry_starts_once(aws: Aws) -> None:
    flaky = FlakyStarter(aws.adapters().starter, failures=1)
    ingest = aws.stream_ingest(aws.adapters(starter=flaky), retrain_after_records=5)
    event = batch(aws, encode(*(row() for _ in range(5))))
    with pytest.raises(Exception, match="ThrottlingException"):
        ingest.handle(event)
    assert aws.executions() == []
    assert ingest.handle(event) == {"batchItemFailures": []}
    ingest.handle(event)
    assert len(aws.executions()) == 1
    [key] = aws.keys(ingest.settings.raw_bucket, FOLDER)
    assert len(csv_rows(aws, ingest.settings.raw_bucket, key)) == 5


def test_not_a_kinesis_batch_is_quarantined(aws: Aws) -> None:
    ingest = aws.stream_ingest()
    assert ingest.handle({"Records": "nope"}) == {"batchItemFailures": []}
    assert len(aws.keys(ingest.settings.raw_bucket, QUARANTINE_PREFIX)) == 1


def _failing_at(ingest, position: int):  # type: ignore[no-untyped-def]
    original, calls = ingest.check, []

    def check(raw):  # type: ignore[no-untyped-def]
        calls.append(raw)
        if len(calls) == position + 1:
            raise RuntimeError("injected")
        return original(raw)

    return check


@pytest.mark.parametrize("position", [0, 1, 4])
def test_no_record_is_lost_whichever_record_fails(aws: Aws, position: int) -> None:
    """Each record is written, or at/after the lowest reported sequence number (Lambda's checkpoint)."""
    ingest = aws.stream_ingest()
    ingest.check = _failing_at(ingest, position)
    event = batch(aws, encode(*(row(ph=3.0 + i / 100) for i in range(5))))
    result = ingest.handle(event)
    sequences = [r["kinesis"]["sequenceNumber"] for r in event["Records"]]
    reported = [f["itemIdentifier"] for f in result["batchItemFailures"]]
    assert min(reported) == sequences[position]
    written = [
        r["pH"] for key in aws.keys(ingest.settings.raw_bucket, FOLDER)
        for r in csv_rows(aws, ingest.settings.raw_bucket, key)
    ]  # fmt: skip
    assert written == [f"{3.0 + i / 100}" for i in range(position)]
    assert aws.metrics.totals["RecordsRetried"] == 5 - position


def test_an_unprocessed_record_without_a_sequence_number_fails_the_whole_batch(aws: Aws) -> None:
    """It cannot be named in a partial batch response: before the fix, Powertools' own failure report broke on
    it, and every record the handler had seen, before and after the failure, was reported as processed."""
    ingest = aws.stream_ingest()
    event = batch(aws, encode(*(row() for _ in range(4))))
    del event["Records"][1]["kinesis"]["sequenceNumber"]
    ingest.check = _failing_at(ingest, 1)
    with pytest.raises(RuntimeError, match="record 1 of 4 was not processed and has no sequence number"):
        ingest.handle(event)
    assert aws.keys(ingest.settings.raw_bucket) == []  # nothing written: the retried batch writes it all


def test_records_after_an_unsequenced_failure_point_are_still_retried(aws: Aws) -> None:
    ingest = aws.stream_ingest()
    event = batch(aws, encode(*(row() for _ in range(4))))
    del event["Records"][3]["kinesis"]["sequenceNumber"]
    ingest.check = _failing_at(ingest, 1)
    result = ingest.handle(event)
    sequences = [r["kinesis"]["sequenceNumber"] for r in event["Records"][:3]]
    assert [f["itemIdentifier"] for f in result["batchItemFailures"]] == sequences[1:]
