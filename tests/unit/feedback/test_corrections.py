"""Corrections: the feedback contract derived from the dataset's target, validation, files, API schema."""

from __future__ import annotations

import json

import pytest

from keel.contract import glue_columns, load_contract
from keel.feedback.corrections import (
    correction_json_schema,
    feedback_contract,
    parse_correction,
    parse_feedback_file,
)
from keel.feedback.records import InvalidValueError

DATASET = load_contract()


def test_the_feedback_contract_takes_its_labels_from_the_target_column() -> None:
    contract = feedback_contract(DATASET)
    assert contract.name == "wine_quality_feedback" and contract.target == "corrected_label"
    for name in ("predicted", "corrected_label"):
        column = contract.column_map[name]
        assert column.type == DATASET.target_column.type
        assert column.allowed_values == DATASET.target_column.allowed_values
    assert set(contract.pii_columns) == {"reviewer", "submitted_by"}
    assert [c["name"] for c in glue_columns(contract)][:5] == [
        "prediction_id",
        "predicted",
        "corrected_label",
        "reviewer",
        "comment",
    ]


def test_a_correction_is_parsed_and_knows_whether_the_prediction_was_right() -> None:
    right = parse_correction(
        DATASET, {"prediction_id": "a", "predicted": 6, "corrected_label": 6.0, "reviewer": "r"}
    )
    assert right.correct and right.corrected_label == 6 and right.comment is None
    wrong = parse_correction(
        DATASET, {"prediction_id": "a", "predicted": 6, "corrected_label": 5, "reviewer": "r"}
    )
    assert not wrong.correct


@pytest.mark.parametrize(
    ("payload", "error"),
    [
        ({"prediction_id": "a", "predicted": 6, "corrected_label": 5, "reviewer": "r\n"}, "reviewer"),
        (
            {"prediction_id": "a" * 129, "predicted": 6, "corrected_label": 5, "reviewer": "r"},
            "prediction_id",
        ),
        (
            {"prediction_id": "a", "predicted": 6, "corrected_label": 5, "reviewer": "r", "comment": 3},
            "comment",
        ),
        ({"prediction_id": "a", "predicted": True, "corrected_label": 5, "reviewer": "r"}, "predicted"),
    ],
)
def test_invalid_corrections_name_the_field(payload: dict, error: str) -> None:
    with pytest.raises(InvalidValueError, match=error):
        parse_correction(DATASET, payload)


def test_feedback_files_in_three_formats() -> None:
    row = {"prediction_id": "a", "predicted": 6, "corrected_label": 5, "reviewer": "r"}
    assert parse_feedback_file(DATASET, "x.jsonl", (json.dumps(row) + "\n\n").encode()) == [(1, row)]
    assert parse_feedback_file(DATASET, "x.json", json.dumps([row]).encode()) == [(1, row)]
    csv_body = b"\xef\xbb\xbfprediction_id,predicted,corrected_label,reviewer,comment\na,6,5.0,r,\n"
    assert parse_feedback_file(DATASET, "x.CSV", csv_body) == [(2, {**row, "comment": None})]
    [(number, error)] = parse_feedback_file(DATASET, "x.jsonl", b"{oops\n")
    assert number == 1 and isinstance(error, InvalidValueError)


def test_the_api_schema_matches_the_validation() -> None:
    schema = correction_json_schema(DATASET)
    assert schema["required"] == ["prediction_id", "predicted", "corrected_label", "reviewer"]
    assert schema["properties"]["corrected_label"] == {"type": "integer", "enum": list(range(11))}
    assert schema["additionalProperties"] is False
