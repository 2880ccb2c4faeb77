"""Parsing SageMaker data capture: every input becomes rows or a rejection with its reason."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime

import pytest

from keel.monitoring.capture import CATEGORIES, capture_key, capture_record, parse_capture_file

FEATURES = ["a", "b", "c"]


def record(data: str, *, encoding: str = "CSV", content_type: str = "text/csv") -> str:
    return json.dumps(
        {
            "captureData": {
                "endpointInput": {
                    "observedContentType": content_type,
                    "mode": "INPUT",
                    "data": data,
                    "encoding": encoding,
                }
            },
            "eventMetadata": {"eventId": "e", "inferenceTime": "2026-01-01T00:00:00Z"},
            "eventVersion": "0",
        }
    )


def parse(*lines: str) -> tuple[list[list[float]], list[tuple[int, str]]]:
    parsed = parse_capture_file("s3://b/k.jsonl", "\n".join(lines).encode(), FEATURES)
    return parsed.rows, [(r.line, r.category) for r in parsed.rejected]


def test_csv_rows_including_several_rows_in_one_request() -> None:
    rows, rejected = parse(record("1,2,3"), record("4,5,6\n7,8,9"))
    assert rows == [[1, 2, 3], [4, 5, 6], [7, 8, 9]]
    assert rejected == []


def test_json_objects_lists_and_instances() -> None:
    rows, rejected = parse(
        record(json.dumps({"a": 1, "b": 2, "c": 3}), encoding="JSON", content_type="application/json"),
        record(json.dumps([{"a": 1, "b": 2, "c": 3}, {"a": 4, "b": 5, "c": 6}]), encoding="JSON"),
        record(json.dumps({"instances": [[7, 8, 9]]}), encoding="JSON"),
        record(json.dumps([1, 2, 3]), encoding="JSON"),
    )
    assert rows == [[1, 2, 3], [1, 2, 3], [4, 5, 6], [7, 8, 9], [1, 2, 3]]
    assert rejected == []


def test_base64_input_follows_its_content_type() -> None:
    csv = base64.b64encode(b"1,2,3").decode()
    as_json = base64.b64encode(json.dumps({"a": 1, "b": 2, "c": 3}).encode()).decode()
    rows, rejected = parse(
        record(csv, encoding="BASE64", content_type="text/csv"),
        record(as_json, encoding="BASE64", content_type="application/json"),
    )
    assert rows == [[1, 2, 3], [1, 2, 3]]
    assert rejected == []


@pytest.mark.parametrize(
    ("line", "category"),
    [
        ("not json", "not-json"),
        (json.dumps({"eventVersion": "0"}), "not-a-capture-record"),
        (record("1,2"), "wrong-value-count"),
        (record("1,x,3"), "not-a-number"),
        (record("1,nan,3"), "not-a-number"),
        (record(json.dumps({"a": 1, "b": 2}), encoding="JSON"), "missing-feature"),
        (record(json.dumps({"a": True, "b": 2, "c": 3}), encoding="JSON"), "not-a-number"),
        (record("@@@", encoding="BASE64"), "unsupported-encoding"),
        (record("1,2,3", encoding="PROTOBUF"), "unsupported-encoding"),
        (record(""), "empty-input"),
    ],
)
def test_each_unparseable_record_is_rejected_with_a_category_and_a_reason(line: str, category: str) -> None:
    parsed = parse_capture_file("s3://b/k.jsonl", f"{record('1,2,3')}\n{line}\n".encode(), FEATURES)
    assert parsed.rows == [[1, 2, 3]]
    assert parsed.records == 2
    (rejected,) = parsed.rejected
    assert (rejected.line, rejected.category) == (2, category)
    assert rejected.reason and rejected.record == line and rejected.source == "s3://b/k.jsonl"
    assert rejected.category in CATEGORIES


def test_a_file_that_is_not_text_is_rejected_whole() -> None:
    parsed = parse_capture_file("s3://b/k.jsonl", b"\xff\xfe\x00", FEATURES)
    assert parsed.rows == [] and parsed.records == 0
    assert [(r.line, r.category) for r in parsed.rejected] == [(0, "not-utf8")]


def test_capture_record_round_trips_and_keys_follow_sagemaker_layout() -> None:
    now = datetime(2026, 3, 4, 5, 6, tzinfo=UTC)
    line = capture_record([7.4, 0.7, 11], inference_id="i-1", event_id="e-1", time=now, prediction="5")
    parsed = parse_capture_file("x.jsonl", line.encode(), FEATURES)
    assert parsed.rows == [[7.4, 0.7, 11.0]]
    document = json.loads(line)
    assert document["eventMetadata"]["inferenceId"] == "i-1"
    assert document["captureData"]["endpointOutput"]["data"] == "5"
    assert capture_key("data-capture/ep/live/", now, "f") == "data-capture/ep/live/2026/03/04/05/f.jsonl"
