"""Human corrections: the feedback dataset's contract (derived from the dataset contract), validation of a
submitted correction, and the JSON Schema of the API's request model.

The feedback contract is built in code from the dataset contract rather than kept as a second YAML file:
its labels must be valid values of the model's target, so they are taken from the target column and cannot
disagree with it. It is a regular `DatasetContract`, so the Glue table is generated the same way.
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from keel.contract import Column, ColumnType, DatasetContract, PartitionKey, RowCount
from keel.feedback.names import CORRECTIONS_PREFIX
from keel.feedback.records import InvalidValueError, check_value

PREDICTION_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:/=+-]{0,127}$"
MAX_REVIEWER_LENGTH = 128
MAX_COMMENT_LENGTH = 2000
MAX_REQUEST_BYTES = 64 * 1024
# Reviewers' files are read whole into the function's memory (sizes.lambda_memory_mb, 512 MB by default).
MAX_FEEDBACK_FILE_BYTES = 64 * 1024 * 1024
FIELDS = ("prediction_id", "predicted", "corrected_label", "reviewer", "comment")
REQUIRED = ("prediction_id", "predicted", "corrected_label", "reviewer")


def feedback_contract(dataset: DatasetContract) -> DatasetContract:
    target = dataset.target_column

    def label(name: str, description: str) -> Column:
        return Column(
            name=name,
            type=target.type,
            min=target.min,
            max=target.max,
            allowed_values=target.allowed_values,
            description=description,
        )

    return DatasetContract(
        name=f"{dataset.name}_feedback",
        version=dataset.version,
        description=f"Reviewers' corrections of {dataset.name} predictions, one per prediction and reviewer.",
        owner=dataset.owner,
        landing_prefix=CORRECTIONS_PREFIX,
        target="corrected_label",
        partition_keys=(PartitionKey(name="ingest_date", description="UTC date (YYYY-MM-DD) stored."),),
        row_count=RowCount(min=1),
        columns=(
            Column(
                name="prediction_id", type=ColumnType.STRING, description="Inference id of the prediction."
            ),
            label("predicted", f"The model's {target.name} as served."),
            label("corrected_label", f"The reviewer's {target.name}."),
            Column(name="reviewer", type=ColumnType.STRING, pii=True, description="Who reviewed."),
            Column(name="comment", type=ColumnType.STRING, nullable=True),
            Column(name="submitted_at", type=ColumnType.TIMESTAMP, description="UTC time received."),
            Column(
                name="submitted_by",
                type=ColumnType.STRING,
                pii=True,
                description="Authenticated IAM principal (API) or the S3 requester (file).",
            ),
            Column(name="source", type=ColumnType.STRING, allowed_values=("api", "file")),
            Column(name="source_ref", type=ColumnType.STRING, description="API request id or file s3 URI."),
            Column(
                name="training_row_uri",
                type=ColumnType.STRING,
                nullable=True,
                description="Training rows made from this correction and its captured input, if found.",
            ),
        ),
    )


@dataclass(frozen=True)
class Correction:
    prediction_id: str
    predicted: Any
    corrected_label: Any
    reviewer: str
    comment: str | None

    @property
    def correct(self) -> bool:
        """The reviewer confirmed the prediction (a correction to the same label)."""
        return bool(self.predicted == self.corrected_label)

    def as_dict(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in FIELDS}


def parse_correction(dataset: DatasetContract, payload: Any) -> Correction:
    """A validated correction, or `InvalidValueError` naming every problem."""
    if not isinstance(payload, Mapping):
        raise InvalidValueError(f"expected a JSON object, got {type(payload).__name__}")
    errors = [f"unknown field {str(k)[:64]!r}" for k in payload if k not in FIELDS]
    errors += [f"{name}: required" for name in REQUIRED if payload.get(name) in (None, "")]
    prediction_id = payload.get("prediction_id")
    if prediction_id not in (None, "") and not _matches_id(prediction_id):
        errors.append("prediction_id: 1-128 characters: letters, digits and . _ : / = + - (not first)")
    reviewer = payload.get("reviewer")
    if reviewer not in (None, "") and not _valid_text(reviewer, MAX_REVIEWER_LENGTH):
        errors.append(f"reviewer: a string of at most {MAX_REVIEWER_LENGTH} printable characters")
    comment = payload.get("comment")
    if comment is not None and not _valid_text(comment, MAX_COMMENT_LENGTH, allow_newlines=True):
        errors.append(f"comment: a string of at most {MAX_COMMENT_LENGTH} characters")
    labels: dict[str, Any] = {}
    for name in ("predicted", "corrected_label"):
        if payload.get(name) in (None, ""):
            continue
        try:
            labels[name] = check_value(dataset.target_column.model_copy(update={"name": name}), payload[name])
        except InvalidValueError as error:
            errors.append(str(error))
    if errors:
        raise InvalidValueError("; ".join(errors))
    return Correction(
        prediction_id=str(prediction_id),
        predicted=labels["predicted"],
        corrected_label=labels["corrected_label"],
        reviewer=str(reviewer),
        comment=comment or None,
    )


def _matches_id(value: Any) -> bool:
    return isinstance(value, str) and re.fullmatch(PREDICTION_ID_PATTERN, value) is not None


def _valid_text(value: Any, limit: int, *, allow_newlines: bool = False) -> bool:
    if not isinstance(value, str) or not 0 < len(value) <= limit:
        return False
    allowed = {"\n", "\r", "\t"} if allow_newlines else set()
    return all(ch.isprintable() or ch in allowed for ch in value)


class UnreadableLineError(InvalidValueError):
    """A line of a reviewer's file that is not JSON; keeps the line for the quarantine."""

    def __init__(self, message: str, text: str) -> None:
        super().__init__(message)
        self.text = text


def parse_feedback_file(dataset: DatasetContract, name: str, body: bytes) -> list[tuple[int, Any]]:
    """(line number, payload) of each correction in a reviewer's file: JSON lines, a JSON array, or CSV with
    a header of the correction fields (labels parsed as the target's type)."""
    text = body.decode("utf-8-sig")
    lower = name.lower()
    if lower.endswith(".csv"):
        rows = csv.DictReader(io.StringIO(text))
        return [(number, _typed_row(dataset, row)) for number, row in enumerate(rows, start=2)]
    if lower.endswith(".json") and text.lstrip().startswith("["):
        items = json.loads(text)
        return list(enumerate(items, start=1))
    entries: list[tuple[int, Any]] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if line.strip():
            try:
                entries.append((number, json.loads(line)))
            except ValueError as error:
                entries.append((number, UnreadableLineError(f"not JSON: {str(error)[:120]}", line)))
    return entries


def _typed_row(dataset: DatasetContract, row: Mapping[str | None, Any]) -> dict[str, Any]:
    typed: dict[str, Any] = {}
    for key, value in row.items():
        if key is None:  # more cells than headers
            typed["<extra cells>"] = value
            continue
        if key in ("predicted", "corrected_label") and isinstance(value, str):
            typed[key] = _label_from_text(dataset.target_column, value)
        else:
            typed[key] = value if value != "" else None
    return typed


def _label_from_text(column: Column, text: str) -> Any:
    text = text.strip()
    try:
        if column.type is ColumnType.INTEGER:
            number = float(text)
            return int(number) if math.isfinite(number) and number.is_integer() else number
        if column.type is ColumnType.DOUBLE:
            return float(text)
        if column.type is ColumnType.BOOLEAN:
            return {"true": True, "false": False}.get(text.lower(), text)
    except ValueError:
        return text
    return text


def correction_json_schema(dataset: DatasetContract) -> dict[str, Any]:
    """The API's request model (JSON Schema draft 4, as API Gateway validates it)."""
    target = dataset.target_column
    label: dict[str, Any] = {
        ColumnType.INTEGER: {"type": "integer"},
        ColumnType.DOUBLE: {"type": "number"},
        ColumnType.BOOLEAN: {"type": "boolean"},
    }.get(target.type, {"type": "string"})
    if target.allowed_values is not None:
        label["enum"] = list(target.allowed_values)
    if target.min is not None:
        label["minimum"] = target.min
    if target.max is not None:
        label["maximum"] = target.max
    return {
        "$schema": "http://json-schema.org/draft-04/schema#",
        "title": "Correction",
        "description": f"A reviewer's correction of one {dataset.name} prediction.",
        "type": "object",
        "additionalProperties": False,
        "required": list(REQUIRED),
        "properties": {
            "prediction_id": {"type": "string", "pattern": PREDICTION_ID_PATTERN, "maxLength": 128},
            "predicted": dict(label),
            "corrected_label": dict(label),
            "reviewer": {"type": "string", "minLength": 1, "maxLength": MAX_REVIEWER_LENGTH},
            "comment": {"type": "string", "maxLength": MAX_COMMENT_LENGTH},
        },
    }
