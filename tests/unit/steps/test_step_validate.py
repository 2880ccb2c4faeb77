"""The validate step on tiny files: passes, every kind of bad input, quarantine, shards and combine."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest

from pipeline_steps import validate
from tests.unit.steps.wine_data import digest, wine_rows, write_csv

pytestmark = pytest.mark.xdist_group("great_expectations")


def run(tmp_path: Path, source: Path, *extra: str) -> tuple[int, dict, Path]:
    out, quarantine = tmp_path / "out", tmp_path / "quarantine"
    code = validate.main(
        ["--input", str(source), "--output", str(out), "--quarantine", str(quarantine), *extra]
    )
    summary_path = next(out.rglob("summary.json"))
    return code, json.loads(summary_path.read_text()), summary_path.parent


def problems(summary: dict) -> str:
    return "\n".join([*summary["errors"], *(f["message"] for f in summary["failures"])])


def test_valid_data_passes_and_writes_every_output(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = write_csv(tmp_path / "in" / "white.csv", wine_rows(n=120))
    code, summary, out = run(tmp_path, source.parent)
    assert code == 0
    assert summary["success"] is True and summary["rows"] == 120 and summary["quarantined_rows"] == 0
    assert summary["evaluated_expectations"] == summary["successful_expectations"] > 30
    result = json.loads((out / "validation_result.json").read_text())
    assert result["success"] is True and result["suite_name"].startswith("wine_quality-")
    assert "PASSED" in (out / "summary.txt").read_text()
    assert "PASSED" in capsys.readouterr().out
    quarantine = pd.read_csv(tmp_path / "quarantine" / "quarantine.csv")
    assert quarantine.empty and "_reasons" in quarantine.columns


def _set(column: str, row: int, value: object) -> Callable[[pd.DataFrame], pd.DataFrame]:
    def change(frame: pd.DataFrame) -> pd.DataFrame:
        frame[column] = frame[column].astype(object)
        frame.loc[row, column] = value
        return frame

    return change


# (case id, how to damage 120 good rows, substrings the summary must contain)
TABLE_CASES = [
    ("missing-column", lambda f: f.drop(columns=["alcohol"]), ["missing column(s): alcohol"]),
    ("extra-column", lambda f: f.assign(colour="white"), ["unexpected column(s): colour"]),
    ("too-few-rows", lambda f: f.head(10), ["10 row(s)", "between 50 and"]),
]


@pytest.mark.parametrize(
    ("damage", "expected"), [c[1:] for c in TABLE_CASES], ids=[c[0] for c in TABLE_CASES]
)
def test_bad_columns_or_row_count_fail_with_a_clear_message(
    tmp_path: Path, damage: Callable[[pd.DataFrame], pd.DataFrame], expected: list[str]
) -> None:
    source = write_csv(tmp_path / "in" / "data.csv", damage(wine_rows(n=120)))
    before = digest(source)
    code, summary, _ = run(tmp_path, source)
    assert code == 1 and summary["success"] is False
    for text in expected:
        assert text in problems(summary)
    assert digest(source) == before


# (row, damage, substrings of the summary, the row's quarantine reason); one file holds them all, since
# each GE run costs ~0.5 s of fixed overhead.
ROW_CASES = [
    (
        3,
        _set("fixed acidity", 3, "abc"),
        ["fixed_acidity: 1 value(s) not a number, e.g. 'abc'"],
        "fixed_acidity: 'abc' is not a number",
    ),
    (
        5,
        _set("alcohol", 5, 25.0),
        ["alcohol: 1 value(s) outside [5.0, 20.0], e.g. 25.0"],
        "alcohol: 25.0 outside [5.0, 20.0]",
    ),
    (
        7,
        _set("quality", 7, 11),
        ["quality: 2 value(s) not in the allowed values, e.g. 11"],
        "quality: 11 not in the allowed values",
    ),
    (
        8,
        _set("quality", 8, 5.5),
        ["quality: 1 value(s) not an integer, e.g. 5.5"],
        "quality: 5.5 is not an integer",
    ),
    (9, _set("pH", 9, None), ["ph: 1 missing value(s)"], "ph: missing value"),
]


def test_bad_values_fail_naming_the_column_and_each_row_is_quarantined(tmp_path: Path) -> None:
    frame = wine_rows(n=120)
    for _, damage, _, _ in ROW_CASES:
        frame = damage(frame)
    source = write_csv(tmp_path / "in" / "data.csv", frame)
    before = digest(source)
    code, summary, _ = run(tmp_path, source)
    assert code == 1 and summary["success"] is False
    for _, _, expected, _ in ROW_CASES:
        for text in expected:
            assert text in problems(summary)
    quarantine = pd.read_csv(tmp_path / "quarantine" / "quarantine.csv")
    assert dict(zip(quarantine["_source_line"], quarantine["_reasons"], strict=True)) == {
        row + 2: reason for row, _, _, reason in ROW_CASES
    }
    assert summary["quarantined_rows"] == len(ROW_CASES)
    assert digest(source) == before


def _semicolons(path: Path) -> None:
    write_csv(path, wine_rows(n=60), delimiter=";")


def _latin1(path: Path) -> None:
    write_csv(path, wine_rows(n=60))
    lines = path.read_bytes().split(b"\n")
    fields = lines[4].split(b",")
    fields[2] = b"0.3\xe9"  # a Latin-1 "é" in the citric acid column
    lines[4] = b",".join(fields)
    path.write_bytes(b"\n".join(lines))


def _ragged(path: Path) -> None:
    write_csv(path, wine_rows(n=60))
    with path.open("a") as handle:
        handle.write("1,2,3,4,5,6,7,8,9,10,11,12,13\n")


FILE_CASES = [
    ("empty-file", lambda p: p.write_bytes(b""), ["empty (0 bytes)"]),
    ("wrong-delimiter", _semicolons, ["wrong delimiter", "semicolon", "format.delimiter is comma"]),
    ("non-utf8", _latin1, ["not valid utf-8", "line 5", "'citric acid' (citric_acid)", "0xe9"]),
    ("ragged-row", _ragged, ["malformed CSV", "line 62"]),
]


@pytest.mark.parametrize(("make", "expected"), [c[1:] for c in FILE_CASES], ids=[c[0] for c in FILE_CASES])
def test_unreadable_files_fail_with_a_clear_message(
    tmp_path: Path, make: Callable[[Path], None], expected: list[str]
) -> None:
    source = tmp_path / "in" / "data.csv"
    source.parent.mkdir(parents=True)
    make(source)
    before = digest(source)
    code, summary, out = run(tmp_path, source)
    assert code == 1 and summary["success"] is False
    assert summary["files"][0]["error"] == summary["errors"][0]
    for text in expected:
        assert text in summary["errors"][0]
    assert not (out / "validation_result.json").exists()  # nothing was readable, so GE had nothing to run on
    assert digest(source) == before


def test_missing_input_fails_rather_than_passing_silently(tmp_path: Path) -> None:
    code, summary, _ = run(tmp_path, tmp_path / "nowhere.csv")
    assert code == 1
    assert (
        "nowhere.csv: no such file or directory" in summary["errors"][0]
        or "not found" in summary["errors"][0]
    )


def test_empty_input_directory_fails(tmp_path: Path) -> None:
    (tmp_path / "in").mkdir()
    code, summary, _ = run(tmp_path, tmp_path / "in")
    assert code == 1 and summary["errors"] == ["no input files to validate"]


def test_one_bad_file_does_not_hide_the_others(tmp_path: Path) -> None:
    write_csv(tmp_path / "in" / "a.csv", wine_rows(n=80))
    (tmp_path / "in" / "b.csv").write_bytes(b"")
    code, summary, _ = run(tmp_path, tmp_path / "in")
    assert code == 1
    assert [f["rows"] for f in summary["files"]] == [80, None]
    assert summary["evaluated_expectations"] > 0  # a.csv was still validated


def test_failing_rows_are_quarantined_with_source_and_reasons(tmp_path: Path) -> None:
    good = wine_rows(n=60, seed=1)
    bad = _set("alcohol", 2, 30.0)(_set("quality", 4, 12)(wine_rows(n=60, seed=2)))
    bad = _set("density", 4, 2.0)(bad)
    write_csv(tmp_path / "in" / "a.csv", good)
    write_csv(tmp_path / "in" / "b.csv", bad)
    code, summary, _ = run(tmp_path, tmp_path / "in")
    assert code == 1 and summary["quarantined_rows"] == 2
    quarantine = pd.read_csv(tmp_path / "quarantine" / "quarantine.csv")
    assert quarantine["_source_file"].str.endswith("b.csv").all()
    assert quarantine["_source_line"].tolist() == [4, 6]  # header is line 1, row i is line i + 2
    reasons = quarantine["_reasons"].tolist()
    assert reasons[0] == "alcohol: 30.0 outside [5.0, 20.0]"
    assert "quality: 12 not in the allowed values" in reasons[1] and "density: 2.0 outside" in reasons[1]
    assert quarantine.loc[0, "alcohol"] == 30.0  # the row itself is kept


def test_report_only_exits_zero_on_failure(tmp_path: Path) -> None:
    source = write_csv(tmp_path / "in" / "data.csv", wine_rows(n=10))
    code, summary, _ = run(tmp_path, source, "--report-only")
    assert code == 0 and summary["success"] is False


def test_unknown_contract_is_a_usage_error(tmp_path: Path) -> None:
    assert (
        validate.main(["--input", str(tmp_path), "--output", str(tmp_path / "o"), "--contract", "nope"]) == 2
    )


def _shard(tmp_path: Path, shard: str, frame: pd.DataFrame) -> int:
    source = write_csv(tmp_path / "in" / shard / "part.csv", frame)
    return validate.main(
        [
            "--input",
            str(source.parent),
            "--output",
            str(tmp_path / "shards"),
            "--quarantine",
            str(tmp_path / "quarantine"),
            "--sharded",
            "--shard-id",
            shard,
        ]
    )


def test_shards_check_the_row_count_minimum_only_in_total(tmp_path: Path) -> None:
    assert _shard(tmp_path, "algo-1", wine_rows(n=30, seed=1)) == 0  # 30 < 50, but only a shard
    assert _shard(tmp_path, "algo-2", wine_rows(n=30, seed=2)) == 0
    assert (tmp_path / "shards" / "algo-1" / "summary.json").is_file()
    assert (tmp_path / "quarantine" / "algo-2" / "quarantine.csv").is_file()
    code = validate.main(
        ["--combine", "--input", str(tmp_path / "shards"), "--output", str(tmp_path / "all")]
    )
    combined = json.loads((tmp_path / "all" / "summary.json").read_text())
    assert code == 0 and combined["success"] is True
    assert combined["rows"] == 60 and combined["shards"] == ["algo-1", "algo-2"]


def test_combine_fails_on_a_failing_shard_or_a_short_total(tmp_path: Path) -> None:
    _shard(tmp_path, "algo-1", wine_rows(n=20, seed=1))
    _shard(tmp_path, "algo-2", _set("alcohol", 0, 99.0)(wine_rows(n=20, seed=2)))
    code = validate.main(
        ["--combine", "--input", str(tmp_path / "shards"), "--output", str(tmp_path / "all")]
    )
    combined = json.loads((tmp_path / "all" / "summary.json").read_text())
    assert code == 1
    shards_failing = {(f["shard"], f["expectation"]) for f in combined["failures"]}
    assert ("algo-2", "expect_column_values_to_be_between") in shards_failing
    assert (None, "expect_table_row_count_to_be_between") in shards_failing  # 40 rows in total
    assert "[algo-2]" in (tmp_path / "all" / "summary.txt").read_text()


def test_combine_accepts_a_single_instance_summary(tmp_path: Path) -> None:
    source = write_csv(tmp_path / "in" / "data.csv", wine_rows(n=60))
    assert (
        validate.main(
            [
                "--input",
                str(source),
                "--output",
                str(tmp_path / "single"),
                "--quarantine",
                str(tmp_path / "q"),
            ]
        )
        == 0
    )
    assert (
        validate.main(["--combine", "--input", str(tmp_path / "single"), "--output", str(tmp_path / "all")])
        == 0
    )


def test_combine_with_no_shards_fails(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    assert (
        validate.main(["--combine", "--input", str(tmp_path / "empty"), "--output", str(tmp_path / "o")]) == 1
    )
    assert "no shard summaries" in (tmp_path / "o" / "summary.txt").read_text()


def test_an_empty_shard_passes_its_part(tmp_path: Path) -> None:
    (tmp_path / "in").mkdir()
    code = validate.main(
        [
            "--input",
            str(tmp_path / "in"),
            "--output",
            str(tmp_path / "o"),
            "--quarantine",
            str(tmp_path / "q"),
            "--sharded",
            "--shard-id",
            "algo-3",
        ]
    )
    summary = json.loads((tmp_path / "o" / "algo-3" / "summary.json").read_text())
    assert code == 0 and summary["rows"] == 0 and summary["shard"] == "algo-3"


def test_runs_on_defaults_below_the_container_root_as_a_shard(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # What the local runner does: a folder for "/", a resource config naming this host, no path arguments.
    write_csv(tmp_path / "opt/ml/processing/input/data/part-0.csv", wine_rows(n=30))
    config = tmp_path / "opt/ml/config/resourceconfig.json"
    config.parent.mkdir(parents=True)
    config.write_text(json.dumps({"current_host": "algo-2", "hosts": ["algo-1", "algo-2"]}))
    monkeypatch.setenv("KEEL_CONTAINER_ROOT", str(tmp_path))
    assert validate.main(["--contract", "wine_quality", "--report-only"]) == 0
    summary = json.loads((tmp_path / "opt/ml/processing/output/validation/algo-2/summary.json").read_text())
    assert summary["shard"] == "algo-2" and summary["success"] is True  # 30 rows: fine for one shard
    assert (tmp_path / "opt/ml/processing/output/quarantine/algo-2/quarantine.csv").is_file()


def test_a_failed_validation_says_why_in_the_jobs_exit_message(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Inside a container the failing job writes /opt/ml/output/message (SageMaker's ExitMessage, first KB):
    every failing expectation with its column, finding and expectation, cut with a pointer when too long."""
    root = tmp_path / "container"
    (root / "opt/ml/output").mkdir(parents=True)
    monkeypatch.setenv("KEEL_CONTAINER_ROOT", str(root))
    frame = wine_rows(n=120)
    for _, damage, _, _ in ROW_CASES:
        frame = damage(frame)
    code, summary, _ = run(tmp_path, write_csv(tmp_path / "in" / "data.csv", frame))
    assert code == 1
    message = (root / "opt/ml/output/message").read_text(encoding="utf-8")
    assert message.startswith("validation failed: ") and len(message.encode()) <= 1024
    first = summary["failures"][0]
    assert f"{first['column']}: {first['message']} (expected {first['expected']})" in message
    full = validate.exit_message(validate.read_summary(next((tmp_path / "out").rglob("summary.json"))))
    assert message == full or message.endswith("(the full list is in the step's summary.json)")


def test_a_passing_or_report_only_run_writes_no_exit_message(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "container"
    (root / "opt/ml/output").mkdir(parents=True)
    monkeypatch.setenv("KEEL_CONTAINER_ROOT", str(root))
    code, _, _ = run(tmp_path, write_csv(tmp_path / "in" / "data.csv", wine_rows(n=120)))
    assert code == 0 and not (root / "opt/ml/output/message").exists()
