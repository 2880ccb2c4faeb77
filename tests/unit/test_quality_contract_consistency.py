"""The GE suite, the Glue schema and the drift features are all generated from the same contract."""

from __future__ import annotations

import copy
from typing import Any

import pytest
import yaml

from keel.contract import CONTRACTS_DIR, DatasetContract, glue_columns, parse_contract
from keel.quality.expectations import expectation_specs
from keel.quality.gx_suite import build_suite

pytestmark = pytest.mark.xdist_group("great_expectations")


def document() -> dict[str, Any]:
    return copy.deepcopy(yaml.safe_load((CONTRACTS_DIR / "wine_quality.yaml").read_text()))


def views(contract: DatasetContract) -> tuple[dict[str, dict[str, Any]], dict[str, str], tuple[str, ...]]:
    """(GE expectations by (type, column), Glue types by column, drift features) of one contract."""
    suite = build_suite(contract, expectation_specs(contract)).to_json_dict()
    expectations = {
        f"{e['type']}:{e['kwargs'].get('column', '')}": e["kwargs"] for e in suite["expectations"]
    }
    glue = {c["name"]: c["type"] for c in glue_columns(contract)}
    return expectations, glue, contract.drift_features


def test_shipped_contract_views_agree() -> None:
    expectations, glue, drift = views(parse_contract(document()))
    column_set = expectations["expect_table_columns_to_match_set:"]["column_set"]
    assert column_set == list(glue) == [*drift, "quality"]


def test_adding_a_column_changes_suite_glue_schema_and_drift_features() -> None:
    base = views(parse_contract(document()))
    changed = document()
    changed["columns"].insert(
        3, {"name": "magnesium", "type": "double", "min": 0, "max": 500, "unit": "mg/l"}
    )
    expectations, glue, drift = views(parse_contract(changed))
    assert expectations["expect_column_values_to_be_between:magnesium"] == {
        "column": "magnesium",
        "min_value": 0.0,
        "max_value": 500.0,
    }
    assert "magnesium" in expectations["expect_table_columns_to_match_set:"]["column_set"]
    assert glue["magnesium"] == "double" and list(glue)[3] == "magnesium"
    assert "magnesium" in drift and "magnesium" not in base[2]


def test_changing_a_column_changes_all_three() -> None:
    changed = document()
    alcohol = next(c for c in changed["columns"] if c["name"] == "alcohol")
    alcohol.update(name="alcohol_pct", type="integer", max=25, drift=False)
    expectations, glue, drift = views(parse_contract(changed))
    assert "expect_column_values_to_be_between:alcohol" not in expectations
    assert expectations["expect_column_values_to_be_between:alcohol_pct"]["max_value"] == 25
    assert expectations["expect_column_values_to_be_in_type_list:alcohol_pct"]["type_list"][0] == "int64"
    assert glue["alcohol_pct"] == "bigint" and "alcohol" not in glue
    assert "alcohol_pct" not in drift and "alcohol" not in drift


def test_suite_is_named_after_the_contract_version() -> None:
    suite = build_suite(parse_contract(document()), ()).to_json_dict()
    assert suite["name"] == "wine_quality-1.0.0"
    assert suite["meta"]["contract_version"] == "1.0.0"
