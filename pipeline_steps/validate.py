"""Validation step: check this instance's input files against the dataset contract with Great Expectations.

Processing-job contract (every path overridable):
  --input       /opt/ml/processing/input/data          CSV file or directory (this instance's shard)
  --output      /opt/ml/processing/output/validation   summary.json, summary.txt, validation_result.json
  --quarantine  /opt/ml/processing/output/quarantine   quarantine.csv (failing rows, with reasons)
Sharded runs (more than one host, or --sharded) write into a `<shard-id>/` subdirectory of each output;
`--combine` merges `<input>/*/summary.json` (and a top-level `<input>/summary.json` of a single-instance
run) into one summary.json/summary.txt in --output; the contract's row-count range applies to the total.
Exit status: 0 passed, 1 failed (unless --report-only), 2 bad arguments or contract.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from keel.contract import DEFAULT_CONTRACT, ContractError, DatasetContract, load_contract
from keel.quality.reading import DataFileError, list_data_files
from keel.quality.summary import ValidationSummary, combine, render_text
from keel.quality.validation import SUMMARY_JSON, read_summary, validate_files, write_outcome, write_summary
from pipeline_steps.container import (
    EXIT_FAILED,
    EXIT_OK,
    EXIT_USAGE,
    configure_logging,
    processing_hosts,
    processing_input,
    processing_output,
    write_exit_message,
)

RESULT_FORMATS = ("BOOLEAN_ONLY", "BASIC", "SUMMARY", "COMPLETE")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="validate", description=__doc__.splitlines()[0])
    parser.add_argument("--input", type=Path, default=processing_input("data"))
    parser.add_argument("--output", type=Path, default=processing_output("validation"))
    parser.add_argument("--quarantine", type=Path, default=processing_output("quarantine"))
    parser.add_argument("--contract", default=DEFAULT_CONTRACT, help="contract name or path")
    parser.add_argument("--shard-id", help="subdirectory of a sharded run (default: this processing host)")
    parser.add_argument(
        "--sharded",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="per-shard mode (default: when the job has more than one host)",
    )
    parser.add_argument("--combine", action="store_true", help="merge the shard summaries under --input")
    parser.add_argument(
        "--result-format",
        choices=RESULT_FORMATS,
        default="SUMMARY",
        help="Great Expectations result format of the failing expectations in validation_result.json "
        "(passing ones are recorded BOOLEAN_ONLY)",
    )
    parser.add_argument(
        "--report-only",
        action="store_true",
        help="exit 0 even if validation fails (a ConditionStep reads summary.json 'success')",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    log = configure_logging()
    try:
        contract = load_contract(args.contract)
    except ContractError as error:
        print(f"validate: {error}", file=sys.stderr)
        return EXIT_USAGE
    summary = run_combine(args.input, args.output, contract) if args.combine else run_shard(args, contract)
    print(render_text(summary), end="")
    log.info("validation %s", "passed" if summary.success else "failed")
    if summary.success or args.report_only:
        return EXIT_OK
    write_exit_message(exit_message(summary))
    return EXIT_FAILED


def exit_message(summary: ValidationSummary) -> str:
    """Why the job failed, most telling first: each failing expectation as column, finding, expectation."""
    failed = summary.evaluated_expectations - summary.successful_expectations
    parts = [
        f"validation failed: {failed} of {summary.evaluated_expectations} expectation(s) failed, "
        f"{summary.quarantined_rows} row(s) quarantined"
    ]
    parts += [f"{f.column or '(table)'}: {f.message} (expected {f.expected})" for f in summary.failures]
    parts += [f"error: {e}" for e in summary.errors]
    return "; ".join(parts)


def run_shard(args: argparse.Namespace, contract: DatasetContract) -> ValidationSummary:
    current_host, hosts = processing_hosts()
    sharded = args.sharded if args.sharded is not None else len(hosts) > 1
    shard = (args.shard_id or current_host or "shard-0") if sharded else None
    output = args.output / shard if shard else args.output
    quarantine = args.quarantine / shard if shard else args.quarantine
    try:
        files = list_data_files(args.input)
    except DataFileError:
        files = [args.input]  # reported as "file not found" in the summary, never a silent pass
    outcome = validate_files(files, contract, sharded=sharded, shard=shard, result_format=args.result_format)
    write_outcome(outcome, output, quarantine)
    return outcome.summary


def run_combine(input_dir: Path, output_dir: Path, contract: DatasetContract) -> ValidationSummary:
    summaries: list[ValidationSummary] = []
    problems: list[str] = []
    # Shards write <shard>/summary.json; a single-instance run writes summary.json at the top. Take both.
    for path in sorted([*input_dir.glob(SUMMARY_JSON), *input_dir.glob(f"*/{SUMMARY_JSON}")]):
        try:
            summaries.append(read_summary(path))
        except ValueError as error:  # pydantic's ValidationError is a ValueError
            problems.append(f"{path}: unreadable shard summary: {str(error).splitlines()[0]}")
    combined = combine(summaries, contract)
    if problems:
        combined = combined.model_copy(update={"success": False, "errors": [*combined.errors, *problems]})
    write_summary(combined, output_dir)
    return combined


if __name__ == "__main__":
    sys.exit(main())
