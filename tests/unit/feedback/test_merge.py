"""Merging corrections with captured inputs into training rows."""

from __future__ import annotations

import base64
import json

from keel.contract import load_contract
from keel.feedback.corrections import Correction
from keel.feedback.merge import parse_capture_lines, training_rows

DATASET = load_contract()
FEATURES = "7.0,0.27,0.36,20.7,0.045,45.0,170.0,1.001,3.0,0.45,8.8"


def capture(inference_id: str, data: str, encoding: str = "CSV", content_type: str = "text/csv") -> str:
    return json.dumps(
        {
            "captureData": {
                "endpointInput": {"data": data, "encoding": encoding, "observedContentType": content_type}
            },
            "eventMetadata": {"inferenceId": inference_id},
        }
    )


def test_capture_records_in_csv_json_and_base64_are_read() -> None:
    as_json = json.dumps({c.name: 1.0 for c in DATASET.feature_columns})
    lines = [
        capture("a", FEATURES),
        capture("b", as_json, "JSON", "application/json"),
        capture("c", base64.b64encode(FEATURES.encode()).decode(), "BASE64"),
        capture("d", "1,2"),  # wrong number of features
        "not json",
        json.dumps({"captureData": {}}),
    ]
    captured = parse_capture_lines(DATASET, lines)
    assert sorted(captured) == ["a", "b", "c"]
    assert captured["a"]["fixed_acidity"] == 7.0 and captured["a"]["alcohol"] == 8.8


def test_training_rows_join_by_prediction_id_and_say_why_not() -> None:
    captured = parse_capture_lines(
        DATASET, [capture("a", FEATURES), capture("b", FEATURES.replace("8.8", "99"))]
    )
    corrections = [Correction(i, 6, 5, "r", None) for i in ("a", "b", "c")]
    result = training_rows(DATASET, corrections, captured)
    assert result.merged_ids == ["a"] and result.rows[0]["quality"] == 5
    assert "alcohol" in result.not_merged["b"]
    assert result.not_merged["c"] == "no captured input for this prediction id"
