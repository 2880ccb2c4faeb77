"""The drift step: reports against the preprocess baseline, thresholds, exit codes, bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pipeline_steps import drift
from tests.unit.steps.wine_data import wine_rows, write_csv

THRESHOLDS = ["--max-feature-psi", "0.2", "--ks-p-value", "0.01", "--max-drifted-feature-share", "0.25"]


def run(baseline: Path, data: Path, out: Path, *extra: str) -> int:
    return drift.main(["--baseline", str(baseline), "--input", str(data), "--output", str(out), *extra])


def test_held_out_split_does_not_drift(
    prepared: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(prepared / "baseline", prepared / "test", tmp_path, *THRESHOLDS, "--fail-on-drift") == 0
    report = json.loads((tmp_path / "drift_report.json").read_text())
    assert report["dataset_drift"] is False and len(report["features"]) == 11
    assert report["thresholds"]["ks_p_value"] == 0.01
    html = (tmp_path / "drift_report.html").read_text()
    assert html.startswith("<!doctype html>") and "No feature drifted" in html
    assert "no drift" in capsys.readouterr().out


def test_red_wine_drifts_and_fails_only_when_asked(prepared: Path, tmp_path: Path) -> None:
    red = write_csv(tmp_path / "red" / "red.csv", wine_rows("red", n=300))
    assert run(prepared / "baseline", red, tmp_path / "a", *THRESHOLDS) == 0
    assert run(prepared / "baseline", red, tmp_path / "b", *THRESHOLDS, "--fail-on-drift") == 3
    report = json.loads((tmp_path / "b" / "drift_report.json").read_text())
    assert report["dataset_drift"] is True and report["drifted_share"] > 0.25
    assert "chlorides" in report["drifted_features"]
    assert (tmp_path / "b" / "drift_report.html").read_text().count("<svg") >= 2 * len(
        report["drifted_features"]
    )


def test_missing_thresholds_come_from_the_environment_config(prepared: Path, tmp_path: Path) -> None:
    assert run(prepared / "baseline", prepared / "test", tmp_path, "--max-feature-psi", "0.5") == 0
    thresholds = json.loads((tmp_path / "drift_report.json").read_text())["thresholds"]
    assert thresholds["max_feature_psi"] == 0.5 and thresholds["ks_p_value"] == 0.01  # local env's value


def test_missing_baseline_fails(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(tmp_path / "nope", tmp_path, tmp_path / "o", *THRESHOLDS) == 1
    assert "not a drift baseline" in capsys.readouterr().err


def test_missing_feature_in_data_fails(
    prepared: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = write_csv(tmp_path / "d.csv", wine_rows(n=50).drop(columns=["density"]))
    assert run(prepared / "baseline", data, tmp_path / "o", *THRESHOLDS) == 1
    assert "missing column(s) density" in capsys.readouterr().err


def test_invalid_threshold_is_a_usage_error(prepared: Path, tmp_path: Path) -> None:
    bad = ["--max-feature-psi", "0.2", "--ks-p-value", "2", "--max-drifted-feature-share", "0.25"]
    assert run(prepared / "baseline", prepared / "test", tmp_path, *bad) == 2
