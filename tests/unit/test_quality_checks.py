"""The vectorised checks: results, per-row reasons, and agreement with Great Expectations."""

from __future__ import annotations

import copy

import numpy as np
import pandas as pd
import pytest
import yaml

from keel.contract import CONTRACTS_DIR, DatasetContract, load_contract, parse_contract
from keel.quality.checks import evaluate, row_reasons
from keel.quality.coerce import coerce_frame
from keel.quality.expectations import expectation_specs
from keel.quality.gx_suite import run_suite


def extended_contract() -> DatasetContract:
    """The wine contract plus a nullable column, a unique text column and a boolean, for coverage."""
    document = copy.deepcopy(yaml.safe_load((CONTRACTS_DIR / "wine_quality.yaml").read_text()))
    document["row_count"] = {"min": 3, "max": 100}
    document["columns"] += [
        {"name": "batch", "type": "integer", "nullable": True, "min": 1, "max": 9},
        {"name": "sample_id", "type": "string", "unique": True},
        {"name": "organic", "type": "boolean"},
    ]
    return parse_contract(document)


def good_rows(contract: DatasetContract, n: int = 8) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    data: dict[str, object] = {}
    for column in contract.columns:
        if column.name == "quality":
            data[column.name] = rng.integers(3, 9, n)
        elif column.name == "batch":
            data[column.name] = [1.0, np.nan] * (n // 2)
        elif column.name == "sample_id":
            data[column.name] = pd.Series([f"s{i:03d}" for i in range(n)], dtype="str")
        elif column.name == "organic":
            data[column.name] = [True, False] * (n // 2)
        else:
            data[column.name] = rng.uniform(column.min or 0, column.max or 1, n)
    return pd.DataFrame(data)


def bad_rows(contract: DatasetContract) -> pd.DataFrame:
    frame = good_rows(contract).astype({"alcohol": object, "quality": object, "sample_id": object})
    frame.loc[0, "alcohol"] = "strong"  # wrong type
    frame.loc[1, "alcohol"] = 25.0  # out of range (in a column that also has a wrong type)
    frame.loc[2, "ph"] = np.nan  # missing
    frame.loc[3, "quality"] = 11  # not allowed
    frame.loc[4, "quality"] = 6.5  # not an integer
    frame.loc[5, "sample_id"] = "s000"  # duplicate of row 0
    frame.loc[6, "batch"] = 12.0  # out of range, nullable column
    return frame.assign(extra=1)


def test_good_rows_pass_every_check() -> None:
    contract = extended_contract()
    results = evaluate(coerce_frame(good_rows(contract), contract), expectation_specs(contract))
    assert all(r.success for r in results), [r.message for r in results if not r.success]
    assert row_reasons(coerce_frame(good_rows(contract), contract), results).empty


def test_bad_rows_fail_with_messages_and_per_row_reasons() -> None:
    contract = extended_contract()
    frame = coerce_frame(bad_rows(contract), contract)
    results = evaluate(frame, expectation_specs(contract))
    messages = {r.message for r in results if not r.success}
    assert "unexpected column(s): extra" in messages
    assert "alcohol: 1 value(s) not a number, e.g. 'strong'" in messages
    assert "ph: 1 missing value(s)" in messages
    assert "quality: 1 value(s) not an integer, e.g. 6.5" in messages
    assert "sample_id: 2 duplicated value(s), e.g. 's000'" in messages
    assert "batch: 1 value(s) outside [1.0, 9.0], e.g. 12.0" in messages
    reasons = row_reasons(frame, results).to_dict()
    assert reasons[0] == "alcohol: 'strong' is not a number; sample_id: 's000' is duplicated"
    assert reasons[1] == "alcohol: 25.0 outside [5.0, 20.0]"
    assert reasons[2] == "ph: missing value"
    assert reasons[3] == "quality: 11 not in the allowed values"
    assert reasons[4] == "quality: 6.5 is not an integer"  # reported once, as a type problem
    assert reasons[6] == "batch: 12.0 outside [1.0, 9.0]"
    assert 7 not in reasons


def test_missing_column_and_row_count() -> None:
    contract = load_contract()
    frame = coerce_frame(good_rows(contract, 4).drop(columns=["alcohol"]), contract)
    failed = {r.spec.type: r.message for r in evaluate(frame, expectation_specs(contract)) if not r.success}
    assert failed["expect_table_columns_to_match_set"] == "missing column(s): alcohol"
    assert failed["expect_column_values_to_be_between"] == "alcohol: column is missing"
    assert (
        failed["expect_table_row_count_to_be_between"]
        == "4 row(s); expected row count between 50 and 50000000"
    )


@pytest.mark.xdist_group("great_expectations")
def test_great_expectations_agrees_on_what_fails_and_how_often() -> None:
    contract = extended_contract()
    frame = coerce_frame(bad_rows(contract), contract)
    specs = expectation_specs(contract)
    ours = {(r.spec.type, r.spec.column): r for r in evaluate(frame, specs)}
    gx = run_suite(frame, contract, specs)
    theirs = {
        (r["expectation_config"]["type"], r["expectation_config"]["kwargs"].get("column")): r
        for r in gx["results"]
    }
    assert set(theirs) == set(ours)
    assert {k for k, r in theirs.items() if not r["success"]} == {k for k, r in ours.items() if not r.success}
    for key, result in theirs.items():
        count = result["result"].get("unexpected_count")
        if count is not None and not result["exception_info"].get("raised_exception", False):
            assert count == ours[key].unexpected_count, key
