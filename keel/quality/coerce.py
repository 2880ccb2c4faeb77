"""Give each contract column its canonical pandas dtype, keeping values that do not fit visible.

A column whose values all fit becomes `float64`, `int64`/`Int64`, `bool`/`boolean`, `datetime64` or
`object` of `str` (text). A column with values that do not fit becomes `object`: fitting values converted,
the others kept as read. Great Expectations checks `object` columns value by value, so its type expectation
then flags exactly those rows, and the vectorised checks flag the same rows for the quarantine.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from pandas.api import types as ptypes

from keel.contract import ColumnType, DatasetContract

_TRUE_FALSE = {"true": True, "false": False}


def coerce_frame(frame: pd.DataFrame, contract: DatasetContract) -> pd.DataFrame:
    """A copy of `frame` with every contract column coerced; other (unexpected) columns are left as read."""
    columns = {
        name: coerce_column(values, contract.column_map[name].type) if name in contract.column_map else values
        for name, values in frame.items()
    }
    # No copy: the coerced columns are new Series or the caller's own (copy-on-write keeps them apart).
    return pd.DataFrame(columns, index=frame.index, copy=False)


def coerce_column(values: pd.Series, column_type: ColumnType) -> pd.Series:
    if column_type is ColumnType.DOUBLE:
        return _as_double(values)
    if column_type is ColumnType.INTEGER:
        return _as_integer(values)
    if column_type is ColumnType.BOOLEAN:
        return _as_boolean(values)
    if column_type is ColumnType.STRING:
        return _as_text(values)
    return _as_datetime(values)


def _as_double(values: pd.Series) -> pd.Series:
    if ptypes.is_bool_dtype(values.dtype):
        return _booleans_as_text(values)
    if ptypes.is_numeric_dtype(values.dtype):
        return values.astype("float64")
    numbers = pd.to_numeric(values, errors="coerce")
    bad = numbers.isna() & values.notna()
    if not bad.any():
        return numbers.astype("float64")
    return _mixed(numbers.astype("float64").astype(object), values, bad)


def _as_integer(values: pd.Series) -> pd.Series:
    if ptypes.is_bool_dtype(values.dtype):
        return _booleans_as_text(values)
    if ptypes.is_integer_dtype(values.dtype):
        return values.astype("Int64" if values.isna().any() else "int64")
    numbers = values if ptypes.is_float_dtype(values.dtype) else pd.to_numeric(values, errors="coerce")
    as_float = numbers.astype("float64")
    finite = np.isfinite(as_float.to_numpy())
    whole = finite & (np.floor(np.where(finite, as_float.to_numpy(), 0.0)) == as_float.to_numpy())
    bad = values.notna().to_numpy() & ~whole
    has_nulls = bool(values.isna().any())
    if not bad.any():
        return as_float.astype("Int64" if has_nulls else "int64")
    good = as_float.where(~bad).astype("Int64").astype(object)
    return _mixed(good, values, pd.Series(bad, index=values.index))


def _as_boolean(values: pd.Series) -> pd.Series:
    if ptypes.is_bool_dtype(values.dtype):
        return values
    if ptypes.is_numeric_dtype(values.dtype):
        return values.astype(object)
    mapped = values.astype(object).map(
        lambda v: _TRUE_FALSE.get(v.strip().lower()) if isinstance(v, str) else v, na_action="ignore"
    )
    fits = mapped.map(lambda v: isinstance(v, bool | np.bool_), na_action="ignore").fillna(False).astype(bool)
    bad = values.notna() & ~fits
    if not bad.any():
        return mapped.astype("boolean" if values.isna().any() else "bool")
    return _mixed(mapped, values, bad)


def _as_text(values: pd.Series) -> pd.Series:
    if values.dtype == object:
        return values
    if ptypes.is_string_dtype(values.dtype):
        return values.astype(object)
    # Numbers in a text column are valid text; render them as text (missing values stay missing).
    return values.astype("str").astype(object)


def _as_datetime(values: pd.Series) -> pd.Series:
    if ptypes.is_datetime64_dtype(values.dtype):
        return values
    parsed = pd.to_datetime(values, errors="coerce", format="ISO8601")
    bad = parsed.isna() & values.notna()
    if not bad.any():
        return parsed
    return _mixed(parsed.astype(object), values, bad)


def _booleans_as_text(values: pd.Series) -> pd.Series:
    # GE's per-value "int" check accepts bools (a Python bool is an int); as text they are flagged.
    return values.astype(object).map(str, na_action="ignore")


def _mixed(good: pd.Series, raw: pd.Series, bad: pd.Series) -> pd.Series:
    out = good.astype(object).copy()
    out[bad.to_numpy()] = raw[bad.to_numpy()].to_numpy()
    return out
