"""Expectation specs derived from the contract (pure: no Great Expectations import)."""

from __future__ import annotations

import copy
from typing import Any

import yaml

from keel.contract import CONTRACTS_DIR, load_contract, parse_contract
from keel.quality.expectations import (
    BETWEEN,
    COLUMNS_MATCH_SET,
    IN_SET,
    IN_TYPE_LIST,
    NOT_NULL,
    ROW_COUNT_BETWEEN,
    UNIQUE,
    expectation_specs,
)


def wine_document() -> dict[str, Any]:
    return copy.deepcopy(yaml.safe_load((CONTRACTS_DIR / "wine_quality.yaml").read_text()))


def test_wine_contract_specs() -> None:
    contract = load_contract()
    specs = expectation_specs(contract)
    assert [s.type for s in specs[:2]] == [COLUMNS_MATCH_SET, ROW_COUNT_BETWEEN]
    assert specs[0].kwargs == {"column_set": [c.name for c in contract.columns], "exact_match": True}
    assert specs[1].kwargs == {"min_value": 50, "max_value": 50_000_000}
    by_type = {t: [s for s in specs if s.type == t] for t in {s.type for s in specs}}
    assert len(by_type[IN_TYPE_LIST]) == len(by_type[NOT_NULL]) == 12
    assert len(by_type[BETWEEN]) == 11 and UNIQUE not in by_type
    alcohol = next(s for s in by_type[BETWEEN] if s.column == "alcohol")
    assert alcohol.kwargs == {"column": "alcohol", "min_value": 5.0, "max_value": 20.0}
    assert by_type[IN_SET][0].kwargs["value_set"] == list(range(11))
    assert next(s for s in by_type[IN_TYPE_LIST] if s.column == "quality").kwargs["type_list"][0] == "int64"


def test_sharded_specs_drop_only_the_row_count_minimum() -> None:
    contract = load_contract()
    sharded = expectation_specs(contract, sharded=True)
    assert sharded[1].kwargs == {"min_value": 0, "max_value": 50_000_000}
    assert sharded[2:] == expectation_specs(contract)[2:]


def test_nullable_unique_and_text_columns() -> None:
    document = wine_document()
    document["columns"][0]["nullable"] = True
    document["columns"].append({"name": "sample_id", "type": "string", "unique": True, "pii": True})
    specs = expectation_specs(parse_contract(document))
    assert not [s for s in specs if s.type == NOT_NULL and s.column == "fixed_acidity"]
    sample = [s for s in specs if s.column == "sample_id"]
    assert [s.type for s in sample] == [IN_TYPE_LIST, NOT_NULL, UNIQUE]
    assert sample[0].kwargs["type_list"] == ["str"]


def test_specs_describe_themselves() -> None:
    descriptions = [s.describe() for s in expectation_specs(load_contract())]
    assert "row count between 50 and 50000000" in descriptions
    assert "alcohol: values in [5.0, 20.0]" in descriptions
    assert "quality: values of type integer" in descriptions
