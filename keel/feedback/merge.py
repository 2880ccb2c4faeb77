"""Merge corrections into training data: a correction whose prediction's input was captured at inference
time becomes a training row (captured features + corrected label), with its provenance.

What is done: SageMaker endpoint data capture files (JSON lines; CSV or JSON inputs) are parsed and joined to
corrections by prediction id (the capture's `inferenceId`); the joined rows are validated against the
dataset contract and written by the feedback loop into the raw bucket's landing partition as
`feedback-*.csv`, where the next training execution reads them.
What is not: the serving stack (endpoint and data capture) is not deployed yet, so the feedback function
runs with no capture (`NoCapturedInputs`) and stores corrections without merging them; and
`S3CapturedInputs` reads every capture file under a prefix, which suits the local runner and small
volumes — production needs an index of captures by inference id (e.g. a Glue/Athena table over the capture
prefix, or a DynamoDB index filled when captures land).
"""

from __future__ import annotations

import base64
import csv
import io
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from keel.contract import DatasetContract
from keel.feedback.corrections import Correction
from keel.feedback.ports import ObjectStore
from keel.feedback.records import validate_record


def parse_capture_lines(contract: DatasetContract, lines: Iterable[str]) -> dict[str, dict[str, Any]]:
    """inference id -> feature values, from data capture records that carry an inference id."""
    features = [c.name for c in contract.feature_columns]
    captured: dict[str, dict[str, Any]] = {}
    for line in lines:
        try:
            record = json.loads(line)
            inference_id = record["eventMetadata"]["inferenceId"]
            endpoint_input = record["captureData"]["endpointInput"]
            values = _decode_input(endpoint_input, features)
        except (ValueError, KeyError, TypeError):
            continue  # not a capture record with an inference id, or an input Keel cannot read
        if inference_id and values is not None:
            captured[str(inference_id)] = values
    return captured


def _decode_input(endpoint_input: dict[str, Any], features: list[str]) -> dict[str, Any] | None:
    data = endpoint_input["data"]
    encoding = str(endpoint_input.get("encoding", "CSV")).upper()
    if encoding == "BASE64":
        data = base64.b64decode(data).decode()
        encoding = "JSON" if "json" in str(endpoint_input.get("observedContentType", "")).lower() else "CSV"
    if encoding == "JSON":
        document = json.loads(data)
        if isinstance(document, dict):
            return {name: document.get(name) for name in features}
        return None
    cells = next(csv.reader(io.StringIO(data)), [])
    if len(cells) != len(features):
        return None
    return {name: _number(cell) for name, cell in zip(features, cells, strict=True)}


def _number(cell: str) -> Any:
    try:
        return float(cell)
    except ValueError:
        return cell


@dataclass(frozen=True)
class MergeResult:
    rows: list[dict[str, Any]]
    merged_ids: list[str]
    not_merged: dict[str, str]  # prediction id -> why


def training_rows(
    contract: DatasetContract, corrections: Sequence[Correction], captured: dict[str, dict[str, Any]]
) -> MergeResult:
    """Captured features + corrected label, validated like any other training row."""
    rows: list[dict[str, Any]] = []
    merged: list[str] = []
    not_merged: dict[str, str] = {}
    for correction in corrections:
        features = captured.get(correction.prediction_id)
        if features is None:
            not_merged[correction.prediction_id] = "no captured input for this prediction id"
            continue
        check = validate_record(contract, {**features, contract.target: correction.corrected_label})
        if not check.valid or check.row is None:
            not_merged[correction.prediction_id] = "; ".join(check.errors)[:500]
            continue
        rows.append(check.row)
        merged.append(correction.prediction_id)
    return MergeResult(rows, merged, not_merged)


class S3CapturedInputs:
    """Captured inputs read from every `.jsonl` file under an S3 prefix (indexed once per container)."""

    MAX_FILE_BYTES = 64 * 1024 * 1024

    def __init__(self, objects: ObjectStore, capture_uri: str, contract: DatasetContract) -> None:
        bucket, _, prefix = capture_uri.removeprefix("s3://").partition("/")
        self._objects, self._bucket, self._prefix, self._contract = objects, bucket, prefix, contract
        self._index: dict[str, dict[str, Any]] = {}
        self._read: set[str] = set()

    def lookup(self, prediction_ids: Sequence[str]) -> dict[str, dict[str, Any]]:
        if any(i not in self._index for i in prediction_ids):
            for key in self._objects.list_keys(self._bucket, self._prefix):
                if key.endswith(".jsonl") and key not in self._read:
                    body = self._objects.get(self._bucket, key, max_bytes=self.MAX_FILE_BYTES)
                    self._index.update(parse_capture_lines(self._contract, body.decode().splitlines()))
                    self._read.add(key)
        return {i: self._index[i] for i in prediction_ids if i in self._index}
