"""The preprocess step: canonical columns, deterministic stratified split, drift baseline, bad input."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from keel.contract import load_contract
from keel.drift.baseline import load_baseline
from pipeline_steps import preprocess
from pipeline_steps.dataset import model_features, split_indices
from tests.unit.steps.wine_data import digest, wine_rows, write_csv


def run(tmp_path: Path, source: Path, out: str = "out", *extra: str) -> int:
    root = tmp_path / out
    return preprocess.main(
        [
            "--input",
            str(source),
            "--train-dir",
            str(root / "train"),
            "--validation-dir",
            str(root / "validation"),
            "--test-dir",
            str(root / "test"),
            "--baseline-dir",
            str(root / "baseline"),
            *extra,
        ]
    )


@pytest.fixture
def source(tmp_path: Path) -> Path:
    write_csv(tmp_path / "in" / "a.csv", wine_rows(n=300, seed=3))
    return write_csv(tmp_path / "in" / "b.csv", wine_rows(n=100, seed=4)).parent


def test_writes_canonical_splits_baseline_and_manifest(tmp_path: Path, source: Path) -> None:
    before = digest(source)
    assert run(tmp_path, source) == 0
    out = tmp_path / "out"
    splits = {name: pd.read_csv(out / name / f"{name}.csv") for name in ("train", "validation", "test")}
    contract = load_contract()
    assert list(splits["train"].columns) == [*model_features(contract), "quality"]
    assert sum(len(s) for s in splits.values()) == 400
    assert len(splits["test"]) == pytest.approx(60, abs=4) and len(splits["validation"]) == pytest.approx(
        60, abs=4
    )
    manifest = json.loads((out / "baseline" / "preprocess.json").read_text())
    assert manifest["rows"] == {name: len(s) for name, s in splits.items()} and manifest["stratified"] is True
    baseline = load_baseline(out / "baseline")
    assert baseline.features == contract.drift_features
    assert baseline.document.rows == len(splits["train"])
    alcohol = baseline.sorted_values["alcohol"]
    assert np.array_equal(alcohol, np.sort(splits["train"]["alcohol"].to_numpy()))  # exact reference for KS
    assert sum(baseline.document.features["alcohol"].proportions) == pytest.approx(1.0)
    assert digest(source) == before


def test_split_is_deterministic_for_a_seed_and_changes_with_it(tmp_path: Path, source: Path) -> None:
    for name, seed in (("a", "7"), ("b", "7"), ("c", "8")):
        assert run(tmp_path, source, name, "--seed", seed) == 0
    files = {name: (tmp_path / name / "test" / "test.csv").read_bytes() for name in "abc"}
    assert files["a"] == files["b"] != files["c"]


def test_split_is_stratified_and_keeps_rare_classes_in_train() -> None:
    labels = np.array([5] * 500 + [6] * 300 + [9] * 1)
    parts = split_indices(len(labels), labels, validation=0.2, test=0.1, seed=1)
    assert sorted(np.concatenate(list(parts.values())).tolist()) == list(range(len(labels)))
    for name, share in (("test", 0.1), ("validation", 0.2)):
        assert np.sum(labels[parts[name]] == 5) == round(500 * share)
        assert np.sum(labels[parts[name]] == 6) == round(300 * share)
    assert labels[parts["train"]].tolist().count(9) == 1


def test_unstratified_split_of_a_continuous_target() -> None:
    parts = split_indices(10, None, validation=0.2, test=0.2, seed=0)
    assert [len(parts[n]) for n in ("train", "validation", "test")] == [6, 2, 2]


@pytest.mark.parametrize(("validation", "test"), [(0.6, 0.5), (-0.1, 0.2)])
def test_bad_fractions_are_usage_errors(tmp_path: Path, source: Path, validation: float, test: float) -> None:
    args = ["--validation-fraction", str(validation), "--test-fraction", str(test)]
    assert run(tmp_path, source, "out", *args) == 2


def test_unusable_input_fails_naming_file_and_column(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    frame = wine_rows(n=60)
    frame["alcohol"] = frame["alcohol"].astype(object)
    frame.loc[4, "alcohol"] = "n/a%"
    source = write_csv(tmp_path / "in" / "bad.csv", frame)
    assert run(tmp_path, source) == 1
    error = capsys.readouterr().err
    assert "bad.csv" in error and "column alcohol" in error and "line 6" in error


def test_missing_column_fails(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = write_csv(tmp_path / "in" / "x.csv", wine_rows(n=60).drop(columns=["sulphates"]))
    assert run(tmp_path, source) == 1
    assert "missing column(s) sulphates" in capsys.readouterr().err


def test_rows_without_target_are_dropped_and_counted(tmp_path: Path) -> None:
    frame = wine_rows(n=100).astype({"quality": "Int64"})
    frame.loc[[1, 2], "quality"] = pd.NA
    source = write_csv(tmp_path / "in" / "x.csv", frame)
    assert run(tmp_path, source) == 0
    manifest = json.loads((tmp_path / "out" / "baseline" / "preprocess.json").read_text())
    assert manifest["dropped_rows_without_target"] == 2 and sum(manifest["rows"].values()) == 98
