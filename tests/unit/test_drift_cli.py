"""`keel drift REFERENCE CURRENT`: table, reports, exit 0/3, and exit 2 for bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from keel.cli import main
from keel.contract import load_contract
from keel.drift.baseline import build_baseline, save_baseline
from keel.quality.loading import load_frame

DATA = Path(__file__).resolve().parents[2] / "data" / "wine-quality"


def test_csv_against_csv_reports_drift(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(
        [
            "drift",
            str(DATA / "winequality-white.csv"),
            str(DATA / "winequality-red.csv"),
            "--out",
            str(tmp_path),
        ]
    )
    assert code == 3
    output = capsys.readouterr().out
    assert "chlorides" in output and "DRIFT" in output and "drift_report.html" in output
    report = json.loads((tmp_path / "drift_report.json").read_text())
    assert report["thresholds"] == {
        "max_feature_psi": 0.2,
        "ks_p_value": 0.01,
        "max_drifted_feature_share": 0.25,
    }


def test_baseline_directory_as_reference(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    contract = load_contract()
    white = load_frame(DATA / "winequality-white.csv", contract).sample(frac=1, random_state=1)
    save_baseline(build_baseline(white.iloc[:3000], contract), tmp_path / "baseline")
    current = tmp_path / "current.csv"
    white.iloc[3000:].to_csv(current, index=False)
    code = main(
        [
            "drift",
            str(tmp_path / "baseline"),
            str(current),
            "--out",
            str(tmp_path / "out"),
            "--max-drifted-feature-share",
            "0.5",
        ]
    )
    assert code == 0
    assert "no drift" in capsys.readouterr().out


def test_missing_input_exits_two(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["drift", str(tmp_path / "nope.csv"), str(DATA / "winequality-red.csv")]) == 2
    assert capsys.readouterr().err.startswith("keel drift: error: ")


def test_bad_current_data_exits_two_with_the_column(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.csv"
    lines = (DATA / "winequality-red.csv").read_text().splitlines()[:20]
    lines[5] = lines[5].replace(",", ",x", 1)
    bad.write_text("\n".join(lines) + "\n")
    assert main(["drift", str(DATA / "winequality-white.csv"), str(bad), "--out", str(tmp_path)]) == 2
    assert "column volatile_acidity" in capsys.readouterr().err
