"""The training baseline: what it stores, the round trip through disk, and damaged baselines."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from keel.contract import load_contract
from keel.drift.baseline import BaselineError, build_baseline, is_baseline_dir, load_baseline, save_baseline

CONTRACT = load_contract()


def frame(n: int = 200, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame({name: rng.normal(10, 2, n) for name in CONTRACT.drift_features} | {"quality": 6})


def test_baseline_holds_bins_and_sorted_values() -> None:
    data = frame()
    data.loc[[3, 4], "alcohol"] = np.nan
    baseline = build_baseline(data, CONTRACT, bins=5)
    assert baseline.features == CONTRACT.drift_features
    alcohol = baseline.document.features["alcohol"]
    assert alcohol.count == 198 and alcohol.missing == 2 and len(alcohol.edges) == 4
    assert (
        sum(alcohol.proportions) == pytest.approx(1) and alcohol.min == baseline.sorted_values["alcohol"][0]
    )
    values = baseline.sorted_values["alcohol"]
    assert np.all(np.diff(values) >= 0) and not np.isnan(values).any()


def test_round_trip(tmp_path: Path) -> None:
    baseline = build_baseline(frame(), CONTRACT)
    written = save_baseline(baseline, tmp_path / "b")
    assert [p.name for p in written] == ["baseline.json", "reference.npz"]
    assert is_baseline_dir(tmp_path / "b") and not is_baseline_dir(tmp_path)
    loaded = load_baseline(tmp_path / "b")
    assert loaded.document == baseline.document
    for name in baseline.features:
        assert np.array_equal(loaded.sorted_values[name], baseline.sorted_values[name])


def test_damaged_baselines_are_reported(tmp_path: Path) -> None:
    with pytest.raises(BaselineError, match="not a drift baseline"):
        load_baseline(tmp_path)
    save_baseline(build_baseline(frame(), CONTRACT), tmp_path)
    document = json.loads((tmp_path / "baseline.json").read_text())
    document["features"]["alcohol"]["count"] = 5
    (tmp_path / "baseline.json").write_text(json.dumps(document))
    with pytest.raises(BaselineError, match="reference values of alcohol are missing or do not match"):
        load_baseline(tmp_path)
    (tmp_path / "reference.npz").unlink()
    with pytest.raises(BaselineError, match="reference values file is missing"):
        load_baseline(tmp_path)
    (tmp_path / "baseline.json").write_text("{not json")
    with pytest.raises(BaselineError, match="invalid baseline document"):
        load_baseline(tmp_path)
