"""Dataset contracts: one declarative file per dataset, loaded and validated once.

Everything that describes a dataset's shape is derived from the contract (the Glue table schema here,
the Great Expectations suite and the drift feature list in their own modules), so they cannot disagree.
"""

from __future__ import annotations

import re
from enum import StrEnum
from functools import cached_property
from pathlib import Path
from typing import Annotated, Any, Self

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

CONTRACTS_DIR = Path(__file__).resolve().parent.parent / "contracts"
DEFAULT_CONTRACT = "wine_quality"

_IDENTIFIER = r"^[a-z][a-z0-9_]{0,127}$"


class ContractError(ValueError):
    """A contract file is missing, unreadable or malformed; the message names the file and the field."""


class ColumnType(StrEnum):
    DOUBLE = "double"
    INTEGER = "integer"
    STRING = "string"
    BOOLEAN = "boolean"
    DATE = "date"
    TIMESTAMP = "timestamp"

    @property
    def is_numeric(self) -> bool:
        return self in (ColumnType.DOUBLE, ColumnType.INTEGER)


# Glue / Hive type of each contract type.
GLUE_TYPES: dict[ColumnType, str] = {
    ColumnType.DOUBLE: "double",
    ColumnType.INTEGER: "bigint",
    ColumnType.STRING: "string",
    ColumnType.BOOLEAN: "boolean",
    ColumnType.DATE: "date",
    ColumnType.TIMESTAMP: "timestamp",
}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


Identifier = Annotated[str, Field(pattern=_IDENTIFIER)]


class Column(_Strict):
    name: Identifier
    type: ColumnType
    source_name: str | None = Field(default=None, description="Header in the raw files, if it differs.")
    description: str = ""
    unit: str | None = None
    nullable: bool = False
    min: float | None = None
    max: float | None = None
    allowed_values: tuple[Any, ...] | None = None
    unique: bool = False
    pii: bool = False
    drift: bool | None = Field(default=None, description="Monitor for drift; default: numeric features.")

    @property
    def header(self) -> str:
        return self.source_name or self.name

    @property
    def glue_type(self) -> str:
        return GLUE_TYPES[self.type]

    @model_validator(mode="after")
    def _check_bounds(self) -> Self:
        if (self.min is not None or self.max is not None) and not self.type.is_numeric:
            raise ValueError(f"min/max are only allowed on numeric columns, not on type {self.type.value!r}")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"min ({self.min}) is greater than max ({self.max})")
        if self.allowed_values is not None:
            if not self.allowed_values:
                raise ValueError("allowed_values must not be empty")
            for value in self.allowed_values:
                if not _value_matches(self.type, value):
                    raise ValueError(f"allowed value {value!r} is not of the column type {self.type.value!r}")
        if self.drift and not self.type.is_numeric:
            raise ValueError("drift monitoring is only supported on numeric columns")
        return self


def _value_matches(column_type: ColumnType, value: Any) -> bool:
    if column_type is ColumnType.INTEGER:
        return isinstance(value, int) and not isinstance(value, bool)
    if column_type is ColumnType.DOUBLE:
        return isinstance(value, int | float) and not isinstance(value, bool)
    if column_type is ColumnType.BOOLEAN:
        return isinstance(value, bool)
    return isinstance(value, str)


class PartitionKey(_Strict):
    name: Identifier
    type: ColumnType = ColumnType.STRING
    description: str = ""


class FileFormat(_Strict):
    type: str = Field(default="csv", pattern="^csv$")
    delimiter: str = Field(default=",", min_length=1, max_length=1)
    header: bool = True
    encoding: str = "utf-8"


class RowCount(_Strict):
    min: int = Field(default=1, ge=0)
    max: int | None = Field(default=None, ge=1)

    @model_validator(mode="after")
    def _check(self) -> Self:
        if self.max is not None and self.min > self.max:
            raise ValueError(f"min ({self.min}) is greater than max ({self.max})")
        return self


class DatasetContract(_Strict):
    name: Identifier
    version: str = Field(pattern=r"^\d+\.\d+\.\d+$")
    description: str = ""
    owner: str = ""
    format: FileFormat = FileFormat()
    landing_prefix: str = Field(pattern=r"^[A-Za-z0-9_\-/]+/$")
    target: Identifier
    partition_keys: tuple[PartitionKey, ...] = ()
    row_count: RowCount = RowCount()
    columns: tuple[Column, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _check_names(self) -> Self:
        names = [c.name for c in self.columns]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"duplicate column names: {', '.join(duplicates)}")
        headers = [c.header for c in self.columns]
        duplicate_headers = sorted({h for h in headers if headers.count(h) > 1})
        if duplicate_headers:
            raise ValueError(f"duplicate source headers: {', '.join(duplicate_headers)}")
        if self.target not in names:
            raise ValueError(f"target {self.target!r} is not a declared column (columns: {', '.join(names)})")
        clashing = sorted({p.name for p in self.partition_keys} & set(names))
        if clashing:
            raise ValueError(f"partition keys must not repeat columns: {', '.join(clashing)}")
        return self

    @cached_property
    def column_map(self) -> dict[str, Column]:
        return {c.name: c for c in self.columns}

    @property
    def target_column(self) -> Column:
        return self.column_map[self.target]

    @property
    def feature_columns(self) -> tuple[Column, ...]:
        return tuple(c for c in self.columns if c.name != self.target)

    @property
    def drift_features(self) -> tuple[str, ...]:
        """Features monitored for drift: those flagged, else every numeric feature."""
        return tuple(
            c.name for c in self.feature_columns if (c.drift if c.drift is not None else c.type.is_numeric)
        )

    @property
    def pii_columns(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns if c.pii)

    @property
    def header_renames(self) -> dict[str, str]:
        """Raw file header -> canonical column name."""
        return {c.header: c.name for c in self.columns}


def _format_errors(error: ValidationError) -> str:
    lines = []
    for item in error.errors():
        location = ".".join(str(part) for part in item["loc"]) or "(top level)"
        lines.append(f"  {location}: {item['msg']}")
    return "\n".join(lines)


def parse_contract(document: Any, *, source: str = "<contract>") -> DatasetContract:
    """Validate a parsed contract document, raising `ContractError` that names each bad field."""
    if not isinstance(document, dict):
        raise ContractError(f"{source}: a contract must be a mapping, got {type(document).__name__}")
    try:
        return DatasetContract.model_validate(document)
    except ValidationError as error:
        raise ContractError(f"{source}: invalid dataset contract:\n{_format_errors(error)}") from None


def load_contract(name_or_path: str | Path = DEFAULT_CONTRACT) -> DatasetContract:
    """Load a contract by name (from `contracts/`) or by file path."""
    path = Path(name_or_path)
    if path.suffix not in (".yaml", ".yml", ".json"):
        path = CONTRACTS_DIR / f"{name_or_path}.yaml"
    if not path.is_file():
        available = sorted(p.stem for p in CONTRACTS_DIR.glob("*.yaml"))
        raise ContractError(f"{path}: contract file not found (available contracts: {', '.join(available)})")
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as error:
        raise ContractError(f"{path}: not valid YAML: {error}") from None
    contract = parse_contract(document, source=str(path))
    if contract.name != path.stem:
        raise ContractError(f"{path}: contract name {contract.name!r} must match the file name {path.stem!r}")
    return contract


def glue_columns(contract: DatasetContract) -> list[dict[str, str]]:
    """Glue `Columns` of the contract's table, in contract order."""
    return [{"name": c.name, "type": c.glue_type, "comment": _glue_comment(c)} for c in contract.columns]


def glue_partition_keys(contract: DatasetContract) -> list[dict[str, str]]:
    return [
        {"name": p.name, "type": GLUE_TYPES[p.type], "comment": p.description[:255]}
        for p in contract.partition_keys
    ]


def _glue_comment(column: Column) -> str:
    parts = [column.description] if column.description else []
    if column.unit:
        parts.append(f"unit: {column.unit}")
    if column.pii:
        parts.append("PII")
    return re.sub(r"\s+", " ", "; ".join(parts))[:255]
