"""SageMaker data capture files: parse captured inference inputs into feature rows, and write such records.

A capture file is JSON lines; each record's `captureData.endpointInput` holds one request as SageMaker saw it:
`data` in `encoding` CSV, JSON or BASE64 (of the `observedContentType`). A CSV request may carry several rows,
a JSON request an object or a list of objects (or of value lists), in the model's feature order.

Nothing is skipped silently: every record that cannot become rows is returned as `Rejected` with its reason,
for the caller to count and quarantine.
"""

from __future__ import annotations

import base64
import binascii
import csv
import io
import json
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

MAX_KEPT_RECORD_CHARS = 64 * 1024


@dataclass(frozen=True)
class Rejected:
    source: str  # S3 URI or path of the capture file
    line: int  # 1-based line number; 0 when the whole file was rejected
    category: str  # one of CATEGORIES, for counting
    reason: str
    record: str  # the raw line (bounded), empty for a whole-file rejection

    def note(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "line": self.line,
            "category": self.category,
            "reason": self.reason,
            "record": self.record,
        }


@dataclass
class ParsedCapture:
    rows: list[list[float]] = field(default_factory=list)
    records: int = 0
    rejected: list[Rejected] = field(default_factory=list)

    def extend(self, other: ParsedCapture) -> None:
        self.rows.extend(other.rows)
        self.records += other.records
        self.rejected.extend(other.rejected)


CATEGORIES = (
    "not-a-capture-file",
    "not-utf8",
    "not-json",
    "not-a-capture-record",
    "unsupported-encoding",
    "empty-input",
    "wrong-value-count",
    "missing-feature",
    "not-a-number",
)


class _RecordError(ValueError):
    def __init__(self, category: str, message: str) -> None:
        assert category in CATEGORIES, category
        super().__init__(message)
        self.category = category


def parse_capture_file(source: str, body: bytes, features: Sequence[str]) -> ParsedCapture:
    """Rows (values in `features` order) of every input captured in a file, and rejected records."""
    parsed = ParsedCapture()
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as error:
        reason = f"not UTF-8 text ({error.reason} at byte {error.start})"
        parsed.rejected.append(Rejected(source, 0, "not-utf8", reason, ""))
        return parsed
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        parsed.records += 1
        try:
            parsed.rows.extend(_record_rows(line, features))
        except _RecordError as error:
            parsed.rejected.append(
                Rejected(source, number, error.category, str(error), line[:MAX_KEPT_RECORD_CHARS])
            )
    return parsed


def _record_rows(line: str, features: Sequence[str]) -> list[list[float]]:
    try:
        record = json.loads(line)
    except ValueError as error:
        raise _RecordError("not-json", f"not a JSON record: {error}") from None
    endpoint_input = record.get("captureData", {}).get("endpointInput") if isinstance(record, dict) else None
    if not isinstance(endpoint_input, dict) or "data" not in endpoint_input:
        raise _RecordError(
            "not-a-capture-record", "no captureData.endpointInput.data (not a SageMaker capture record)"
        )
    data, encoding = endpoint_input["data"], str(endpoint_input.get("encoding", "CSV")).upper()
    content_type = str(endpoint_input.get("observedContentType", "text/csv")).lower()
    if not isinstance(data, str):
        raise _RecordError("not-a-capture-record", "endpointInput.data is not a string")
    if encoding == "BASE64":
        try:
            data = base64.b64decode(data, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError) as error:
            raise _RecordError("unsupported-encoding", f"BASE64 input is not UTF-8 text: {error}") from None
        encoding = "JSON" if "json" in content_type else "CSV" if "csv" in content_type else "UNKNOWN"
    if encoding == "CSV":
        rows = [row for row in csv.reader(io.StringIO(data)) if row]
    elif encoding == "JSON":
        rows = _json_rows(data, features)
    else:
        raise _RecordError(
            "unsupported-encoding", f"unsupported input encoding {encoding} (content type {content_type!r})"
        )
    if not rows:
        raise _RecordError("empty-input", "empty input")
    return [_numbers(row, features) for row in rows]


def _json_rows(data: str, features: Sequence[str]) -> list[list[Any]]:
    try:
        document = json.loads(data)
    except ValueError as error:
        raise _RecordError("not-json", f"JSON input is not valid JSON: {error}") from None
    if isinstance(document, dict) and isinstance(document.get("instances"), list):
        document = document["instances"]
    many = isinstance(document, list) and bool(document) and isinstance(document[0], dict | list)
    items = document if many else [document]
    rows = []
    for item in items:
        if isinstance(item, dict):
            missing = [name for name in features if name not in item]
            if missing:
                raise _RecordError("missing-feature", f"JSON input lacks feature(s) {', '.join(missing)}")
            rows.append([item[name] for name in features])
        elif isinstance(item, list):
            rows.append(item)
        else:
            raise _RecordError(
                "not-a-number", f"JSON input is a {type(item).__name__}, not an object or a list of values"
            )
    return rows


def _numbers(row: Sequence[Any], features: Sequence[str]) -> list[float]:
    if len(row) != len(features):
        raise _RecordError(
            "wrong-value-count", f"{len(row)} value(s), expected {len(features)} ({', '.join(features)})"
        )
    values = []
    for name, cell in zip(features, row, strict=True):
        if isinstance(cell, bool):
            raise _RecordError("not-a-number", f"{name}: boolean {cell!r} is not a number")
        try:
            value = float(cell.strip() if isinstance(cell, str) else cell)
        except (TypeError, ValueError):
            raise _RecordError("not-a-number", f"{name}: {str(cell)[:40]!r} is not a number") from None
        if not math.isfinite(value):
            raise _RecordError("not-a-number", f"{name}: {value} is not a finite number")
        values.append(value)
    return values


def capture_record(
    values: Sequence[float],
    *,
    inference_id: str,
    event_id: str,
    time: datetime,
    prediction: str | None = None,
) -> str:
    """A capture line as SageMaker writes it for a CSV request (the local runner simulates traffic)."""
    data = ",".join(repr(float(v)) for v in values)
    capture: dict[str, Any] = {
        "endpointInput": {"observedContentType": "text/csv", "mode": "INPUT", "data": data, "encoding": "CSV"}
    }
    if prediction is not None:
        capture["endpointOutput"] = {
            "observedContentType": "text/csv",
            "mode": "OUTPUT",
            "data": prediction,
            "encoding": "CSV",
        }
    return json.dumps(
        {
            "captureData": capture,
            "eventMetadata": {
                "eventId": event_id,
                "inferenceId": inference_id,
                "inferenceTime": time.strftime("%Y-%m-%dT%H:%M:%SZ"),
            },
            "eventVersion": "0",
        }
    )


def capture_key(prefix: str, time: datetime, name: str) -> str:
    """`<prefix>yyyy/mm/dd/hh/<name>.jsonl`, as SageMaker lays out `<capture uri>/<endpoint>/<variant>/`."""
    return f"{prefix}{time:%Y/%m/%d/%H}/{name}.jsonl"


def parse_files(files: Iterable[tuple[str, bytes]], features: Sequence[str]) -> ParsedCapture:
    parsed = ParsedCapture()
    for source, body in files:
        parsed.extend(parse_capture_file(source, body, features))
    return parsed
