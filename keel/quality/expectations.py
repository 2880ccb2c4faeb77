"""The expectations a dataset contract implies, as plain specs (no Great Expectations import needed).

One spec per Great Expectations expectation, named by its snake_case type, so the GE suite, the vectorised
pandas checks and the report all iterate over the same list.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from keel.contract import ColumnType, DatasetContract

COLUMNS_MATCH_SET = "expect_table_columns_to_match_set"
ROW_COUNT_BETWEEN = "expect_table_row_count_to_be_between"
IN_TYPE_LIST = "expect_column_values_to_be_in_type_list"
NOT_NULL = "expect_column_values_to_not_be_null"
BETWEEN = "expect_column_values_to_be_between"
IN_SET = "expect_column_values_to_be_in_set"
UNIQUE = "expect_column_values_to_be_unique"

# Expectations whose failures are attributable to rows (and so can be quarantined).
ROW_LEVEL = frozenset({IN_TYPE_LIST, NOT_NULL, BETWEEN, IN_SET, UNIQUE})

# Type names Great Expectations 1.24 accepts for each contract type on pandas. A column whose dtype is one
# of the numpy/pandas names passes as a whole; an `object` column is checked value by value against the
# Python names ("float", "int", "str"), which is how `keel.quality.coerce` marks unparseable values.
# pandas 3's "str" dtype matches no GE type name, so text columns are handed to GE as `object`.
GX_TYPE_LISTS: dict[ColumnType, tuple[str, ...]] = {
    ColumnType.DOUBLE: ("float64", "float"),
    ColumnType.INTEGER: ("int64", "Int64Dtype", "int"),
    ColumnType.STRING: ("str",),
    ColumnType.BOOLEAN: ("bool", "BooleanDtype"),
    ColumnType.DATE: ("datetime64[ns]", "datetime64[us]", "datetime64[ms]", "datetime64[s]", "Timestamp"),
    ColumnType.TIMESTAMP: (
        "datetime64[ns]",
        "datetime64[us]",
        "datetime64[ms]",
        "datetime64[s]",
        "Timestamp",
    ),
}


@dataclass(frozen=True)
class ExpectationSpec:
    """One expectation: its GE type, its keyword arguments and the contract column type it checks."""

    type: str
    kwargs: dict[str, Any] = field(default_factory=dict)
    column_type: ColumnType | None = None

    @property
    def column(self) -> str | None:
        return self.kwargs.get("column")

    @property
    def row_level(self) -> bool:
        return self.type in ROW_LEVEL

    def describe(self) -> str:
        """A short, human description of what is expected (used in summaries)."""
        kw = self.kwargs
        if self.type == COLUMNS_MATCH_SET:
            return f"columns are exactly {', '.join(kw['column_set'])}"
        if self.type == ROW_COUNT_BETWEEN:
            upper = "" if kw.get("max_value") is None else f" and {kw['max_value']}"
            return (
                f"row count between {kw['min_value']}{upper}" if upper else f"at least {kw['min_value']} rows"
            )
        if self.type == IN_TYPE_LIST:
            return f"{self.column}: values of type {self.column_type}"
        if self.type == NOT_NULL:
            return f"{self.column}: no missing values"
        if self.type == BETWEEN:
            return f"{self.column}: values in [{kw.get('min_value')}, {kw.get('max_value')}]"
        if self.type == IN_SET:
            return f"{self.column}: values in {{{', '.join(map(str, kw['value_set']))}}}"
        if self.type == UNIQUE:
            return f"{self.column}: values unique"
        return self.type


def expectation_specs(contract: DatasetContract, *, sharded: bool = False) -> tuple[ExpectationSpec, ...]:
    """Every expectation the contract implies, table-level first, then column by column in contract order.

    With `sharded=True` the row-count minimum is dropped (a shard of a multi-instance job may be small or
    empty); the combine step checks the total against the contract instead. The maximum still applies per
    shard, since no shard can exceed the total.
    """
    specs: list[ExpectationSpec] = [
        ExpectationSpec(
            COLUMNS_MATCH_SET, {"column_set": [c.name for c in contract.columns], "exact_match": True}
        ),
        ExpectationSpec(
            ROW_COUNT_BETWEEN,
            {"min_value": 0 if sharded else contract.row_count.min, "max_value": contract.row_count.max},
        ),
    ]
    for column in contract.columns:
        name = column.name
        specs.append(
            ExpectationSpec(
                IN_TYPE_LIST, {"column": name, "type_list": list(GX_TYPE_LISTS[column.type])}, column.type
            )
        )
        if not column.nullable:
            specs.append(ExpectationSpec(NOT_NULL, {"column": name}, column.type))
        if column.min is not None or column.max is not None:
            specs.append(
                ExpectationSpec(
                    BETWEEN, {"column": name, "min_value": column.min, "max_value": column.max}, column.type
                )
            )
        if column.allowed_values is not None:
            specs.append(
                ExpectationSpec(
                    IN_SET, {"column": name, "value_set": list(column.allowed_values)}, column.type
                )
            )
        if column.unique:
            specs.append(ExpectationSpec(UNIQUE, {"column": name}, column.type))
    return tuple(specs)
