"""Validate single records against a dataset contract and render valid ones as the contract's CSV.

Used by the streaming trigger (one JSON object per Kinesis record) and by the human feedback loop (labels
checked against the target column). Pure functions: no AWS, no pandas (they run in a small Lambda).
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from keel.contract import Column, ColumnType, DatasetContract

MAX_STRING_LENGTH = 4096


class InvalidValueError(ValueError):
    """A value does not satisfy its column; the message says why."""


def check_value(column: Column, value: Any) -> Any:
    """The value normalised to the column's type, or `InvalidValueError`."""
    if value is None or value == "":
        if column.nullable:
            return None
        raise InvalidValueError(f"{column.name}: required")
    normalised = _coerce(column, value)
    if column.type.is_numeric:
        if column.min is not None and normalised < column.min:
            raise InvalidValueError(f"{column.name}: {normalised} is below the minimum {column.min}")
        if column.max is not None and normalised > column.max:
            raise InvalidValueError(f"{column.name}: {normalised} is above the maximum {column.max}")
    if column.allowed_values is not None and normalised not in column.allowed_values:
        raise InvalidValueError(f"{column.name}: {normalised!r} is not an allowed value")
    return normalised


def _coerce(column: Column, value: Any) -> Any:
    kind = column.type
    if kind is ColumnType.BOOLEAN:
        if isinstance(value, bool):
            return value
        raise InvalidValueError(f"{column.name}: expected a boolean, got {type(value).__name__}")
    if kind is ColumnType.STRING:
        if not isinstance(value, str):
            raise InvalidValueError(f"{column.name}: expected a string, got {type(value).__name__}")
        if len(value) > MAX_STRING_LENGTH:
            raise InvalidValueError(f"{column.name}: longer than {MAX_STRING_LENGTH} characters")
        return value
    if kind in (ColumnType.DATE, ColumnType.TIMESTAMP):
        if not isinstance(value, str):
            raise InvalidValueError(f"{column.name}: expected an ISO-8601 string, got {type(value).__name__}")
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            raise InvalidValueError(f"{column.name}: {value[:40]!r} is not an ISO-8601 date/time") from None
        return parsed.date() if kind is ColumnType.DATE else parsed
    # numeric: JSON numbers only (a bool is not a number; NaN and infinities are not data)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidValueError(f"{column.name}: expected a number, got {type(value).__name__}")
    if isinstance(value, float) and not math.isfinite(value):
        raise InvalidValueError(f"{column.name}: {value} is not a finite number")
    if kind is ColumnType.INTEGER:
        if isinstance(value, float):
            if not value.is_integer():
                raise InvalidValueError(f"{column.name}: {value} is not an integer")
            return int(value)
        return value
    return float(value)


@dataclass(frozen=True)
class RecordCheck:
    row: dict[str, Any] | None  # canonical column name -> normalised value
    errors: tuple[str, ...]

    @property
    def valid(self) -> bool:
        return self.row is not None


def validate_record(contract: DatasetContract, payload: Any) -> RecordCheck:
    """Check one record (a JSON object keyed by column names or raw headers) against every column."""
    if not isinstance(payload, Mapping):
        return RecordCheck(None, (f"expected a JSON object, got {type(payload).__name__}",))
    by_name = contract.column_map
    renames = contract.header_renames
    values: dict[str, Any] = {}
    errors: list[str] = []
    for raw_key, value in payload.items():
        name = raw_key if raw_key in by_name else renames.get(str(raw_key))
        if name is None:
            errors.append(f"unknown field {str(raw_key)[:64]!r}")
        elif name in values:
            errors.append(f"{name}: given twice (as column and as raw header)")
        else:
            values[name] = value
    row: dict[str, Any] = {}
    for column in contract.columns:
        try:
            row[column.name] = check_value(column, values.get(column.name))
        except InvalidValueError as error:
            errors.append(str(error))
    if errors:
        return RecordCheck(None, tuple(errors))
    return RecordCheck(row, ())


def format_value(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def render_csv(contract: DatasetContract, rows: Sequence[Mapping[str, Any]]) -> bytes:
    """Rows as the contract's file format: its delimiter, and the raw headers when it has a header."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=contract.format.delimiter, lineterminator="\n")
    if contract.format.header:
        writer.writerow([c.header for c in contract.columns])
    for row in rows:
        writer.writerow([format_value(row.get(c.name)) for c in contract.columns])
    return buffer.getvalue().encode(contract.format.encoding)
