"""Coercion to the contract's dtypes keeps values that do not fit, so they can be reported per row."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from keel.contract import ColumnType
from keel.quality.coerce import coerce_column


def test_numbers_in_a_double_column() -> None:
    assert coerce_column(pd.Series([1, 2]), ColumnType.DOUBLE).dtype == np.float64
    assert coerce_column(pd.Series(["1.5", None], dtype="str"), ColumnType.DOUBLE).tolist()[0] == 1.5


def test_unparseable_values_are_kept_as_read() -> None:
    values = coerce_column(pd.Series(["1.5", "abc", None], dtype="str"), ColumnType.DOUBLE)
    assert values.dtype == object and values[0] == 1.5 and values[1] == "abc" and pd.isna(values[2])


def test_integers() -> None:
    assert coerce_column(pd.Series([5.0, 6.0]), ColumnType.INTEGER).dtype == np.int64
    with_nulls = coerce_column(pd.Series([5.0, np.nan]), ColumnType.INTEGER)
    assert isinstance(with_nulls.dtype, pd.Int64Dtype)
    mixed = coerce_column(pd.Series([5.0, 5.5, np.inf]), ColumnType.INTEGER)
    assert mixed.dtype == object and mixed.tolist()[:2] == [5, 5.5] and type(mixed[0]) is int


@pytest.mark.parametrize("column_type", [ColumnType.DOUBLE, ColumnType.INTEGER])
def test_booleans_in_a_numeric_column_become_text(column_type: ColumnType) -> None:
    # GE's per-value "int" check would accept True (a bool is an int in Python); as text it is flagged.
    assert coerce_column(pd.Series([True, False]), column_type).tolist() == ["True", "False"]


def test_booleans_and_text() -> None:
    assert coerce_column(pd.Series(["true", "FALSE"], dtype="str"), ColumnType.BOOLEAN).tolist() == [
        True,
        False,
    ]
    assert coerce_column(pd.Series(["true", "maybe"], dtype="str"), ColumnType.BOOLEAN).tolist() == [
        True,
        "maybe",
    ]
    text = coerce_column(pd.Series([7, 8]), ColumnType.STRING)
    assert text.dtype == object and text.tolist() == ["7", "8"]


def test_dates() -> None:
    parsed = coerce_column(pd.Series(["2026-01-01", "2026-02-03"], dtype="str"), ColumnType.DATE)
    assert str(parsed.dtype).startswith("datetime64")
    bad = coerce_column(pd.Series(["2026-01-01", "soon"], dtype="str"), ColumnType.DATE)
    assert bad.dtype == object and bad[1] == "soon"
