"""The dataset contract: one source of truth, and a clear message for every malformed contract."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from keel.contract import (
    CONTRACTS_DIR,
    ContractError,
    glue_columns,
    load_contract,
    parse_contract,
)


@pytest.fixture
def document() -> dict[str, Any]:
    return copy.deepcopy(yaml.safe_load((CONTRACTS_DIR / "wine_quality.yaml").read_text()))


def test_wine_quality_contract_matches_the_shipped_data() -> None:
    contract = load_contract("wine_quality")
    data = Path(__file__).resolve().parents[2] / "data" / "wine-quality" / "winequality-white.csv"
    header = data.read_text().splitlines()[0].split(contract.format.delimiter)
    assert header == [c.header for c in contract.columns]
    assert contract.target == "quality"
    assert len(contract.drift_features) == 11
    assert contract.target not in contract.drift_features
    assert contract.pii_columns == ()


def test_glue_schema_follows_the_contract() -> None:
    contract = load_contract()
    columns = glue_columns(contract)
    assert [c["name"] for c in columns] == [c.name for c in contract.columns]
    assert {c["name"]: c["type"] for c in columns}["quality"] == "bigint"
    assert {c["name"]: c["type"] for c in columns}["alcohol"] == "double"


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (lambda d: d.update(target="colour"), "target 'colour' is not a declared column"),
        (lambda d: d["columns"].append(dict(d["columns"][0])), "duplicate column names: fixed_acidity"),
        (lambda d: d["columns"][0].update(min=5, max=1), "columns.0: Value error, min (5.0) is greater"),
        (lambda d: d["columns"][0].update(type="decimal"), "columns.0.type: Input should be"),
        (lambda d: d["columns"][11].update(allowed_values=[1, "two"]), "allowed value 'two' is not of"),
        (lambda d: d["columns"][0].update(name="Fixed Acidity"), "columns.0.name: String should match"),
        (lambda d: d.pop("landing_prefix"), "landing_prefix: Field required"),
        (lambda d: d.update(version="one"), "version: String should match"),
        (lambda d: d.update(partition_keys=[{"name": "alcohol"}]), "partition keys must not repeat"),
        (lambda d: d["columns"][0].update(colour="red"), "columns.0.colour: Extra inputs are not permitted"),
        (lambda d: d.update(columns=[]), "columns: Tuple should have at least 1 item"),
    ],
)
def test_malformed_contracts_name_the_field(document: dict[str, Any], mutate: Any, expected: str) -> None:
    mutate(document)
    with pytest.raises(ContractError) as error:
        parse_contract(document, source="wine_quality.yaml")
    assert expected in str(error.value)
    assert str(error.value).startswith("wine_quality.yaml: ")


def test_contract_must_be_a_mapping() -> None:
    with pytest.raises(ContractError, match="must be a mapping, got list"):
        parse_contract([1, 2])


def test_missing_and_unparsable_contract_files(tmp_path: Path) -> None:
    with pytest.raises(ContractError, match=r"contract file not found.*available contracts: wine_quality"):
        load_contract("nope")
    bad = tmp_path / "bad.yaml"
    bad.write_text("columns: [unclosed")
    with pytest.raises(ContractError, match="not valid YAML"):
        load_contract(bad)


def test_contract_name_must_match_file(tmp_path: Path, document: dict[str, Any]) -> None:
    path = tmp_path / "other.yaml"
    path.write_text(yaml.safe_dump(document))
    with pytest.raises(ContractError, match="must match the file name 'other'"):
        load_contract(path)
