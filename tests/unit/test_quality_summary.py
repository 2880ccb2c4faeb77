"""Merging shard summaries and rendering the human summary (pure: no Great Expectations run)."""

from __future__ import annotations

from keel.contract import load_contract
from keel.quality.summary import FailedExpectation, FileReport, ValidationSummary, combine, render_text

CONTRACT = load_contract()


def shard(name: str, rows: int, success: bool = True, **extra: object) -> ValidationSummary:
    return ValidationSummary(
        contract="wine_quality",
        contract_version="1.0.0",
        success=success,
        shard=name,
        rows=rows,
        evaluated_expectations=38,
        successful_expectations=38 if success else 37,
        files=[FileReport(path=f"{name}.csv", rows=rows)],
        **extra,  # type: ignore[arg-type]
    )


def test_combine_sums_and_checks_the_total_row_count() -> None:
    combined = combine([shard("algo-1", 30), shard("algo-2", 30)], CONTRACT)
    assert combined.success and combined.rows == 60 and combined.shards == ["algo-1", "algo-2"]
    assert combined.evaluated_expectations == 77 and combined.successful_expectations == 77
    short = combine([shard("algo-1", 20), shard("algo-2", 20)], CONTRACT)
    assert not short.success
    assert short.failures[-1].message == "40 row(s) across 2 shard(s)"


def test_combine_keeps_shard_failures_and_errors() -> None:
    failure = FailedExpectation(
        expectation="expect_column_values_to_not_be_null",
        column="ph",
        expected="ph: no missing values",
        message="ph: 2 missing value(s)",
    )
    bad = shard("algo-2", 60, success=False, failures=[failure], errors=["b.csv: file is empty"])
    combined = combine([shard("algo-1", 60), bad], CONTRACT)
    assert not combined.success
    assert combined.failures[0].shard == "algo-2"
    assert combined.errors == ["shard algo-2: b.csv: file is empty"]
    text = render_text(combined)
    assert "FAILED" in text and "[algo-2] ph: 2 missing value(s)" in text and "(2 shards)" in text


def test_combine_rejects_another_contract_version_and_no_shards() -> None:
    other = shard("algo-1", 60).model_copy(update={"contract_version": "0.9.0"})
    assert "validated against contract wine_quality 0.9.0" in combine([other], CONTRACT).errors[0]
    empty = combine([], CONTRACT)
    assert not empty.success and empty.errors == ["no shard summaries found to combine"]


def test_render_text_of_a_pass() -> None:
    text = render_text(shard("algo-1", 60))
    assert text.splitlines()[0] == "wine_quality 1.0.0 (shard algo-1): PASSED"
    assert "60 row(s) in 1 file(s); 0 of 38 expectation(s) failed; 0 row(s) quarantined" in text
