"""The contract's expectations evaluated with vectorised pandas: per-check results and per-row reasons.

Semantics follow Great Expectations 1.24 on pandas (nulls are ignored by every check except not-null;
bounds are inclusive; an `object` column is type-checked value by value), so the two agree on which checks
fail; tests hold them to it. GE is the auditable record; this module says which rows failed and why, which
GE's summary format does not, and is the "pandas floor" the validation benchmark compares GE against.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from pandas.api import types as ptypes

from keel.contract import ColumnType
from keel.quality.expectations import (
    BETWEEN,
    COLUMNS_MATCH_SET,
    IN_SET,
    IN_TYPE_LIST,
    NOT_NULL,
    ROW_COUNT_BETWEEN,
    UNIQUE,
    ExpectationSpec,
)

MAX_EXAMPLES = 5

# Python types GE accepts value by value in an `object` column, per contract type (see GX_TYPE_LISTS).
PYTHON_TYPES: dict[ColumnType, tuple[type, ...]] = {
    ColumnType.DOUBLE: (float,),
    ColumnType.INTEGER: (int, np.integer),
    ColumnType.STRING: (str,),
    ColumnType.BOOLEAN: (bool, np.bool_),
    ColumnType.DATE: (pd.Timestamp, np.datetime64),
    ColumnType.TIMESTAMP: (pd.Timestamp, np.datetime64),
}
_TYPE_NAMES = {
    ColumnType.DOUBLE: "a number",
    ColumnType.INTEGER: "an integer",
    ColumnType.STRING: "text",
    ColumnType.BOOLEAN: "true/false",
    ColumnType.DATE: "a date",
    ColumnType.TIMESTAMP: "a timestamp",
}


@dataclass(frozen=True)
class CheckResult:
    """The outcome of one expectation. `unexpected` marks failing rows for row-level expectations."""

    spec: ExpectationSpec
    success: bool
    message: str
    unexpected: np.ndarray | None = None
    observed: Any = None

    @property
    def unexpected_count(self) -> int | None:
        return None if self.unexpected is None else int(self.unexpected.sum())


def evaluate(frame: pd.DataFrame, specs: Sequence[ExpectationSpec]) -> list[CheckResult]:
    """Evaluate every spec on `frame` (already coerced, see keel.quality.coerce)."""
    return [_evaluate_one(frame, spec) for spec in specs]


def _evaluate_one(frame: pd.DataFrame, spec: ExpectationSpec) -> CheckResult:
    if spec.type == COLUMNS_MATCH_SET:
        return _columns_match(frame, spec)
    if spec.type == ROW_COUNT_BETWEEN:
        return _row_count(frame, spec)
    column = spec.column
    if column not in frame.columns:
        return CheckResult(spec, False, f"{column}: column is missing")
    values = frame[column]
    if spec.type == IN_TYPE_LIST:
        return _type(values, spec)
    if spec.type == NOT_NULL:
        mask = values.isna().to_numpy()
        return _row_result(spec, mask, values, f"{column}: {{n}} missing value(s)")
    if spec.type == BETWEEN:
        return _between(values, spec)
    if spec.type == IN_SET:
        mask = (values.notna() & ~values.isin(spec.kwargs["value_set"])).to_numpy()
        return _row_result(spec, mask, values, f"{column}: {{n}} value(s) not in the allowed values")
    if spec.type == UNIQUE:
        mask = (values.notna() & values.duplicated(keep=False)).to_numpy()
        return _row_result(spec, mask, values, f"{column}: {{n}} duplicated value(s)")
    raise ValueError(f"no vectorised check for expectation type {spec.type!r}")


def _columns_match(frame: pd.DataFrame, spec: ExpectationSpec) -> CheckResult:
    expected = list(spec.kwargs["column_set"])
    missing = [c for c in expected if c not in frame.columns]
    unexpected = [str(c) for c in frame.columns if c not in expected]
    parts = []
    if missing:
        parts.append(f"missing column(s): {', '.join(missing)}")
    if unexpected:
        parts.append(f"unexpected column(s): {', '.join(unexpected)}")
    observed = {"missing": missing, "unexpected": unexpected}
    return CheckResult(spec, not parts, "; ".join(parts) or "columns match", observed=observed)


def _row_count(frame: pd.DataFrame, spec: ExpectationSpec) -> CheckResult:
    rows, low, high = len(frame), spec.kwargs.get("min_value"), spec.kwargs.get("max_value")
    ok = (low is None or rows >= low) and (high is None or rows <= high)
    return CheckResult(spec, ok, f"{rows} row(s); expected {spec.describe()}", observed=rows)


def _type(values: pd.Series, spec: ExpectationSpec) -> CheckResult:
    column_type = spec.column_type
    assert column_type is not None
    name = f"{spec.column}: {{n}} value(s) not {_TYPE_NAMES[column_type]}"
    if values.dtype == object:
        accepted = PYTHON_TYPES[column_type]
        fits = values.map(lambda v: isinstance(v, accepted), na_action="ignore")
        mask = (values.notna() & ~fits.fillna(True).astype(bool)).to_numpy()
        return _row_result(spec, mask, values, name)
    ok = _dtype_fits(values.dtype, column_type)
    mask = np.zeros(len(values), dtype=bool) if ok else values.notna().to_numpy()
    result = _row_result(
        spec, mask, values, f"{spec.column}: column type {values.dtype} is not {column_type}"
    )
    return CheckResult(spec, ok, result.message, mask, observed=str(values.dtype))


def _dtype_fits(dtype: Any, column_type: ColumnType) -> bool:
    if column_type is ColumnType.DOUBLE:
        return bool(dtype == np.float64)
    if column_type is ColumnType.INTEGER:
        return bool(dtype == np.int64) or isinstance(dtype, pd.Int64Dtype)
    if column_type is ColumnType.BOOLEAN:
        return bool(dtype == np.bool_) or isinstance(dtype, pd.BooleanDtype)
    if column_type in (ColumnType.DATE, ColumnType.TIMESTAMP):
        return bool(ptypes.is_datetime64_dtype(dtype))
    return False  # text is handed over as `object` and checked value by value


def _between(values: pd.Series, spec: ExpectationSpec) -> CheckResult:
    low, high = spec.kwargs.get("min_value"), spec.kwargs.get("max_value")
    column = spec.column
    wrong_types = False
    if values.dtype == object:
        # GE cannot compare mixed types and fails the check; rows with numbers are still judged here so the
        # quarantine names every out-of-range value, not only the ones of the wrong type.
        numbers = pd.to_numeric(values, errors="coerce")
        wrong_types = bool((numbers.isna() & values.notna()).any())
        values = numbers
    array = values.to_numpy(dtype="float64", na_value=np.nan)
    with np.errstate(invalid="ignore"):
        mask = np.zeros(len(array), dtype=bool)
        if low is not None:
            mask |= array < low
        if high is not None:
            mask |= array > high
    result = _row_result(spec, mask, values, f"{column}: {{n}} value(s) outside [{low}, {high}]")
    if wrong_types:
        found = f"{result.message}; " if not result.success else ""
        return CheckResult(
            spec,
            False,
            f"{found}{column}: range not checkable while the column has values of the wrong type",
            mask,
        )
    return result


def _row_result(spec: ExpectationSpec, mask: np.ndarray, values: pd.Series, template: str) -> CheckResult:
    count = int(mask.sum())
    if not count:
        return CheckResult(spec, True, spec.describe(), mask)
    examples = "" if spec.type == NOT_NULL else _examples(values.to_numpy()[mask])
    message = template.format(n=count) + (f", e.g. {examples}" if examples else "")
    return CheckResult(spec, False, message, mask)


def _examples(values: np.ndarray) -> str:
    seen: list[str] = []
    for value in values[: MAX_EXAMPLES * 20]:
        text = _show(value)
        if text not in seen:
            seen.append(text)
        if len(seen) == MAX_EXAMPLES:
            break
    return ", ".join(seen)


def _show(value: Any) -> str:
    if value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value)):
        return "(missing)"
    if isinstance(value, np.generic):
        value = value.item()
    return repr(value)


# --- per-row reasons, for the quarantine -----------------------------------------------------------------

_REASONS = {
    IN_TYPE_LIST: "{value} is not {type_name}",
    NOT_NULL: "missing value",
    BETWEEN: "{value} outside [{min_value}, {max_value}]",
    IN_SET: "{value} not in the allowed values",
    UNIQUE: "{value} is duplicated",
}


def row_reasons(frame: pd.DataFrame, results: Sequence[CheckResult]) -> pd.Series:
    """Why each failing row failed: positional row number -> "col: reason; col: reason".

    A value of the wrong type is reported once, as such, not again as out of range or not allowed.
    """
    reasons: dict[int, list[str]] = defaultdict(list)
    wrong_type: dict[str, np.ndarray] = {}
    for result in results:
        spec = result.spec
        if not spec.row_level or result.unexpected is None or not result.unexpected.any():
            continue
        column = spec.column
        assert column is not None
        mask = result.unexpected
        if spec.type == IN_TYPE_LIST:
            wrong_type[column] = mask
        elif column in wrong_type:
            mask = mask & ~wrong_type[column]
        values = frame[column].to_numpy()
        type_name = _TYPE_NAMES[spec.column_type] if spec.column_type else ""
        for row in np.flatnonzero(mask):
            text = _REASONS[spec.type].format(value=_show(values[row]), type_name=type_name, **spec.kwargs)
            reasons[int(row)].append(f"{column}: {text}")
    rows = sorted(reasons)
    return pd.Series(["; ".join(reasons[r]) for r in rows], index=pd.Index(rows, dtype="int64"), dtype=object)
