"""`keel validate`: exit 0/1 with a summary, exit 2 and one clear line for bad input."""

from __future__ import annotations

from pathlib import Path

import pytest

from keel.cli import main
from tests.unit.steps.wine_data import wine_rows, write_csv

pytestmark = pytest.mark.xdist_group("great_expectations")


def test_valid_file_exits_zero(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = write_csv(tmp_path / "white.csv", wine_rows(n=100))
    assert main(["validate", str(source), "--out", str(tmp_path / "out")]) == 0
    output = capsys.readouterr().out
    assert "PASSED" in output and "summary.json" in output
    assert (tmp_path / "out" / "quarantine.csv").is_file()


def test_failing_file_exits_one_with_the_failing_expectations(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    frame = wine_rows(n=100)
    frame.loc[3, "alcohol"] = 42.0
    source = write_csv(tmp_path / "white.csv", frame.drop(columns=["sulphates"]))
    assert main(["validate", str(source)]) == 1
    output = capsys.readouterr().out
    assert "FAILED" in output
    assert "missing column(s): sulphates" in output and "alcohol: 1 value(s) outside [5.0, 20.0]" in output


def test_missing_file_exits_two_without_traceback(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", str(tmp_path / "nope.csv")]) == 2
    error = capsys.readouterr().err
    assert error.strip() == f"keel validate: error: {tmp_path / 'nope.csv'}: no such file or directory"


def test_unknown_contract_exits_two(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = write_csv(tmp_path / "white.csv", wine_rows(n=60))
    assert main(["validate", str(source), "--contract", "beer"]) == 2
    assert "contract file not found" in capsys.readouterr().err


def test_unreadable_file_is_a_validation_failure(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = tmp_path / "white.csv"
    source.write_bytes(b"")
    assert main(["validate", str(source)]) == 1
    assert "file is empty" in capsys.readouterr().out
