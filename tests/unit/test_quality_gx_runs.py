"""The faster Great Expectations runs give the verdict and the archived result of the single-pass run.

`legacy_run_suite` is the validation path before issue 18 (a new context per run, one pass in the requested
result format, GE's own batch fingerprint), kept here as the reference.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from keel.contract import DatasetContract, load_contract
from keel.quality import gx_fingerprint, gx_suite, validation
from keel.quality.coerce import coerce_frame
from keel.quality.expectations import ExpectationSpec, expectation_specs
from keel.quality.gx_fingerprint import frame_fingerprint, ge_hash_threshold, ge_hashing_disabled
from keel.quality.gx_suite import RESULT_FORMATS_META, run_suite
from keel.quality.validation import validate_files
from tests.unit.steps.wine_data import wine_rows, write_csv
from tests.unit.test_quality_checks import bad_rows, extended_contract, good_rows

pytestmark = pytest.mark.xdist_group("great_expectations")

FORMATS = ["SUMMARY", "COMPLETE", "BASIC", "BOOLEAN_ONLY"]


def legacy_run_suite(
    frame: pd.DataFrame,
    contract: DatasetContract,
    specs: tuple[ExpectationSpec, ...],
    *,
    result_format: str = "SUMMARY",
) -> dict[str, Any]:
    gx = gx_suite._gx()
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    batch = (
        context.data_sources.add_pandas("keel")
        .add_dataframe_asset(contract.name)
        .add_batch_definition_whole_dataframe("batch")
    )
    suite = context.suites.add(gx_suite.build_suite(contract, specs))
    definition = context.validation_definitions.add(
        gx.ValidationDefinition(name=f"{contract.name}-validation", data=batch, suite=suite)
    )
    result = definition.run(batch_parameters={"dataframe": frame}, result_format=result_format)
    return dict(result.to_json_dict())


def _without_ids(result: dict[str, Any]) -> dict[str, Any]:
    # Expectation ids are generated per context; everything else must match.
    return {**result, "expectation_config": {**result["expectation_config"], "id": None}}


def assert_same_record(before: dict[str, Any], after: dict[str, Any]) -> None:
    """Same verdict, same failing expectations with the same details, same batch fingerprint."""
    assert after["success"] == before["success"]
    assert after["statistics"] == before["statistics"]
    assert after["suite_name"] == before["suite_name"]
    fingerprints = [r["meta"]["batch_markers"].get("pandas_data_fingerprint") for r in (before, after)]
    assert fingerprints[0] == fingerprints[1]
    assert len(after["results"]) == len(before["results"])
    for old, new in zip(before["results"], after["results"], strict=True):
        assert new["success"] == old["success"]
        if old["success"]:
            assert _without_ids(new)["expectation_config"] == _without_ids(old)["expectation_config"]
        else:
            assert _without_ids(new) == _without_ids(old)


def _extended(bad: bool) -> tuple[DatasetContract, pd.DataFrame]:
    contract = extended_contract()
    return contract, coerce_frame(bad_rows(contract) if bad else good_rows(contract), contract)


@pytest.mark.parametrize("result_format", FORMATS)
@pytest.mark.parametrize("bad", [True, False], ids=["failing", "passing"])
def test_two_pass_run_matches_the_single_pass_run(bad: bool, result_format: str) -> None:
    contract, frame = _extended(bad)
    specs = expectation_specs(contract)
    before = legacy_run_suite(frame, contract, specs, result_format=result_format)
    after = run_suite(frame, contract, specs, result_format=result_format)
    assert after["success"] is not bad
    assert_same_record(before, after)
    assert after["meta"][RESULT_FORMATS_META] == {"failing": result_format, "passing": "BOOLEAN_ONLY"}


def test_runner_is_reused_and_results_do_not_leak_between_frames() -> None:
    contract, bad = _extended(True)
    _, good = _extended(False)
    specs = expectation_specs(contract)
    first = run_suite(bad, contract, specs)
    runner = gx_suite.suite_runner(contract, specs)
    second = run_suite(good, contract, specs)
    assert gx_suite.suite_runner(contract, specs) is runner
    assert first["success"] is False and second["success"] is True
    assert_same_record(legacy_run_suite(good, contract, specs), second)


def _mixed_objects() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "a": [1.5, "x", None, 7, np.nan],
            "b": pd.Series(["p", None, "q", "p", "r"], dtype=object),
            "c": pd.to_datetime(["2024-01-01", None, "2024-01-03", "2024-01-04", "2024-01-05"]),
            "d": [True, False, True, True, False],
        }
    )


FRAMES: dict[str, Callable[[], pd.DataFrame]] = {
    "wine": lambda: coerce_frame(good_rows(extended_contract()), extended_contract()),
    "bad-rows": lambda: coerce_frame(bad_rows(extended_contract()), extended_contract()),
    "mixed-objects": _mixed_objects,
    "nan-and-negative-zero": lambda: pd.DataFrame({"x": [0.0, -0.0, np.nan, -np.nan, 1.0]}),
    "empty": lambda: pd.DataFrame({"x": pd.Series([], dtype="float64")}),
    "no-columns": lambda: pd.DataFrame(index=range(3)),
    "unhashable": lambda: pd.DataFrame({"x": [{"k": 1}, {"k": 2}]}),  # GE pickles these
    "offset-index": lambda: pd.DataFrame({"x": range(7)}, index=range(10, 17)),
}


@pytest.mark.parametrize("make", list(FRAMES.values()), ids=list(FRAMES))
def test_chunked_fingerprint_equals_great_expectations_own(
    make: Callable[[], pd.DataFrame], monkeypatch: pytest.MonkeyPatch
) -> None:
    from great_expectations.execution_engine.pandas_execution_engine import hash_pandas_dataframe

    frame = make()
    expected = hash_pandas_dataframe(frame)
    monkeypatch.setattr(gx_fingerprint, "CHUNK_ROWS", 2)  # many chunks, including a short last one
    assert frame_fingerprint(frame, ge_hash_threshold()) == expected


def test_no_fingerprint_where_great_expectations_records_none() -> None:
    frame = pd.DataFrame({"x": [1.0, 2.0]})
    assert frame_fingerprint(frame, threshold=float(frame.memory_usage().sum())) is None


def test_hashing_switch_restores_the_threshold_even_on_errors() -> None:
    original = ge_hash_threshold()
    with pytest.raises(RuntimeError), ge_hashing_disabled() as threshold:
        assert threshold == original and ge_hash_threshold() == 0
        raise RuntimeError("boom")
    assert ge_hash_threshold() == original


def _damaged_wine(path: Path) -> Path:
    frame = wine_rows(n=150).astype({"alcohol": object, "quality": object, "pH": object})
    frame.loc[3, "alcohol"] = "strong"
    frame.loc[5, "alcohol"] = 25.0
    frame.loc[7, "quality"] = 11
    frame.loc[8, "quality"] = 5.5
    frame.loc[9, "pH"] = None
    frame.loc[10, "pH"] = 9.0
    return write_csv(path, frame)


@pytest.mark.parametrize("sharded", [False, True], ids=["single", "shard"])
def test_validate_files_outcome_is_unchanged(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sharded: bool
) -> None:
    contract = load_contract()
    paths = [_damaged_wine(tmp_path / "a.csv"), write_csv(tmp_path / "b.csv", wine_rows(n=40, seed=1))]
    after = validate_files(paths, contract, sharded=sharded, shard="algo-1" if sharded else None)
    monkeypatch.setattr(validation, "run_suite", legacy_run_suite)
    before = validate_files(paths, contract, sharded=sharded, shard="algo-1" if sharded else None)
    assert after.summary == before.summary
    assert after.summary.success is False and len(after.summary.failures) >= 5
    pd.testing.assert_frame_equal(after.quarantine, before.quarantine)
    assert after.quarantine["_source_line"].tolist() == [5, 7, 9, 10, 11, 12]
    assert after.gx_result is not None and before.gx_result is not None
    assert_same_record(before.gx_result, after.gx_result)
