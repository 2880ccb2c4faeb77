"""The validation summary (summary.json / summary.txt): its schema, how it is built, merged and rendered.

Great Expectations decides which expectations failed; the vectorised checks supply the human message
(counts, examples), since GE's messages for pandas type errors and missing columns are not readable.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from keel.contract import DatasetContract
from keel.quality.checks import CheckResult
from keel.quality.expectations import ROW_COUNT_BETWEEN, ExpectationSpec


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class FileReport(_Model):
    path: str
    rows: int | None = None  # None when the file could not be read
    error: str | None = None


class FailedExpectation(_Model):
    expectation: str  # Great Expectations type, e.g. "expect_column_values_to_be_between"
    column: str | None = None
    expected: str  # what the contract asks for, in words
    message: str  # what was found, with counts and examples
    unexpected_count: int | None = None
    shard: str | None = None


class ValidationSummary(_Model):
    schema_version: Literal[1] = 1
    contract: str
    contract_version: str
    success: bool
    shard: str | None = None  # this shard's id; None for a single-instance run or a combined summary
    shards: list[str] = []  # the shards a combined summary merged
    rows: int = 0
    quarantined_rows: int = 0
    evaluated_expectations: int = 0
    successful_expectations: int = 0
    files: list[FileReport] = []
    errors: list[str] = []  # problems that are not an expectation: unreadable files, missing shards
    failures: list[FailedExpectation] = []


def _key(spec_type: str, kwargs: Mapping[str, Any]) -> tuple[str, str | None]:
    return spec_type, kwargs.get("column")


def summarise(
    contract: DatasetContract,
    *,
    gx_result: Mapping[str, Any] | None,
    checks: Sequence[CheckResult],
    files: Sequence[FileReport],
    rows: int,
    quarantined_rows: int,
    shard: str | None = None,
    errors: Sequence[str] = (),
) -> ValidationSummary:
    """Build the summary of one run; `gx_result` is None when no file could be read (nothing to validate)."""
    by_key = {_key(c.spec.type, c.spec.kwargs): c for c in checks}
    order = {key: index for index, key in enumerate(by_key)}
    ranked: list[tuple[int, FailedExpectation]] = []
    evaluated = successful = 0
    for result in (gx_result or {}).get("results", []):
        config = result["expectation_config"]
        evaluated += 1
        if result["success"]:
            successful += 1
            continue
        key = _key(config["type"], config["kwargs"])
        ranked.append((order.get(key, len(order)), _failure(config, result, by_key.get(key))))
    # GE returns results in its own order; report them in contract order.
    failures = [failure for _, failure in sorted(ranked, key=lambda item: item[0])]
    all_errors = [f.error for f in files if f.error] + list(errors)
    success = gx_result is not None and bool(gx_result.get("success")) and not all_errors
    return ValidationSummary(
        contract=contract.name,
        contract_version=contract.version,
        success=success,
        shard=shard,
        rows=rows,
        quarantined_rows=quarantined_rows,
        evaluated_expectations=evaluated,
        successful_expectations=successful,
        files=list(files),
        errors=all_errors,
        failures=failures,
    )


def _failure(
    config: Mapping[str, Any], result: Mapping[str, Any], check: CheckResult | None
) -> FailedExpectation:
    column = config["kwargs"].get("column")
    if check is not None and not check.success:
        message, count, expected = check.message, check.unexpected_count, check.spec.describe()
    else:
        # GE failed a check the vectorised evaluation passed: report GE's own words rather than guess.
        message = f"failed in Great Expectations: {_gx_detail(result)}"
        count = result.get("result", {}).get("unexpected_count")
        expected = check.spec.describe() if check is not None else config["type"]
    return FailedExpectation(
        expectation=config["type"], column=column, expected=expected, message=message, unexpected_count=count
    )


def _gx_detail(result: Mapping[str, Any]) -> str:
    info = result.get("exception_info") or {}
    messages = (
        [info.get("exception_message")]
        if "raised_exception" in info
        else [v.get("exception_message") for v in info.values() if isinstance(v, Mapping)]
    )
    found = [m for m in messages if m]
    if found:
        return found[0]
    observed = result.get("result", {}).get("observed_value")
    return f"observed {observed!r}"


def combine(summaries: Sequence[ValidationSummary], contract: DatasetContract) -> ValidationSummary:
    """Merge the summaries of the shards of one multi-instance job and check the total row count.

    Per-shard runs check only the row-count maximum (see keel.quality.expectations); the contract's
    minimum and maximum apply to the total, here.
    """
    errors: list[str] = []
    if not summaries:
        errors.append("no shard summaries found to combine")
    for summary in summaries:
        if (summary.contract, summary.contract_version) != (contract.name, contract.version):
            errors.append(
                f"shard {summary.shard}: validated against contract {summary.contract} "
                f"{summary.contract_version}, expected {contract.name} {contract.version}"
            )
        errors.extend(f"shard {summary.shard}: {e}" for e in summary.errors)
    rows = sum(s.rows for s in summaries)
    failures = [f.model_copy(update={"shard": f.shard or s.shard}) for s in summaries for f in s.failures]
    total = ExpectationSpec(
        ROW_COUNT_BETWEEN, {"min_value": contract.row_count.min, "max_value": contract.row_count.max}
    )
    total_ok = rows >= contract.row_count.min and (
        contract.row_count.max is None or rows <= contract.row_count.max
    )
    if not total_ok:
        failures.append(
            FailedExpectation(
                expectation=ROW_COUNT_BETWEEN,
                expected=f"total {total.describe()}",
                message=f"{rows} row(s) across {len(summaries)} shard(s)",
            )
        )
    return ValidationSummary(
        contract=contract.name,
        contract_version=contract.version,
        success=bool(summaries) and all(s.success for s in summaries) and total_ok and not errors,
        shards=[s.shard or f"#{i}" for i, s in enumerate(summaries)],
        rows=rows,
        quarantined_rows=sum(s.quarantined_rows for s in summaries),
        evaluated_expectations=sum(s.evaluated_expectations for s in summaries) + 1,
        successful_expectations=sum(s.successful_expectations for s in summaries) + int(total_ok),
        files=[f for s in summaries for f in s.files],
        errors=errors,
        failures=failures,
    )


def render_text(summary: ValidationSummary) -> str:
    """A short human summary: verdict, counts, then one line per problem."""
    verdict = "PASSED" if summary.success else "FAILED"
    scope = (
        f" (shard {summary.shard})"
        if summary.shard
        else (f" ({len(summary.shards)} shards)" if summary.shards else "")
    )
    failed = summary.evaluated_expectations - summary.successful_expectations
    lines = [
        f"{summary.contract} {summary.contract_version}{scope}: {verdict}",
        f"  {summary.rows} row(s) in {len(summary.files)} file(s); "
        f"{failed} of {summary.evaluated_expectations} expectation(s) failed; "
        f"{summary.quarantined_rows} row(s) quarantined",
    ]
    lines += [f"  error: {e}" for e in summary.errors]
    for f in summary.failures:
        where = f"[{f.shard}] " if f.shard and not summary.shard else ""
        lines.append(f"  - {where}{f.message}  (expected {f.expected})")
    return "\n".join(lines) + "\n"
