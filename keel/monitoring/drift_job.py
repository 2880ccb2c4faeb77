"""Production drift check as a SageMaker processing job (Keel's step image; network-isolated, so it writes
files only and the drift publisher Lambda puts the metrics when the job completes).

  --baseline    /opt/ml/processing/input/baseline    the deployed model's training baseline
  --capture     /opt/ml/processing/input/capture     the captured .jsonl files of the window (manifest input)
  --output      /opt/ml/processing/output/drift      drift_report.json/.html, capture_summary.json
  --quarantine  /opt/ml/processing/output/quarantine rejected.jsonl (reasons), unreadable files
Thresholds are passed by the Lambda from the environment config. Exit status: 0 outputs written, 1 unusable
baseline, 2 bad arguments.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path

from keel.contract import ContractError, load_contract
from keel.drift.baseline import BaselineError
from keel.drift.detect import DriftThresholds
from keel.monitoring.drift_check import capture_files, run_drift_check

PROCESSING = Path("/opt/ml/processing")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="drift_job", description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", type=Path, default=PROCESSING / "input" / "baseline")
    parser.add_argument("--capture", type=Path, default=PROCESSING / "input" / "capture")
    parser.add_argument("--output", type=Path, default=PROCESSING / "output" / "drift")
    parser.add_argument("--quarantine", type=Path, default=PROCESSING / "output" / "quarantine")
    parser.add_argument("--contract", required=True)
    parser.add_argument("--max-feature-psi", type=float, required=True)
    parser.add_argument("--ks-p-value", type=float, required=True)
    parser.add_argument("--max-drifted-feature-share", type=float, required=True)
    parser.add_argument("--min-rows", type=int, required=True)
    parser.add_argument("--capture-label", default="", help="where the capture came from (S3 URI)")
    parser.add_argument("--baseline-label", default="", help="where the baseline came from (S3 URI)")
    return parser


def _read(directory: Path, label: str) -> Iterator[tuple[str, bytes]]:
    for name, path in capture_files(directory):
        yield (f"{label.rstrip('/')}/{name}" if label else str(path)), path.read_bytes()


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        contract = load_contract(args.contract)
        thresholds = DriftThresholds(
            max_feature_psi=args.max_feature_psi,
            ks_p_value=args.ks_p_value,
            max_drifted_feature_share=args.max_drifted_feature_share,
        )
    except (ContractError, ValueError) as error:
        print(f"drift_job: {error}", file=sys.stderr)
        return 2
    try:
        outputs = run_drift_check(
            baseline_dir=args.baseline,
            captures=_read(args.capture, args.capture_label) if args.capture.is_dir() else iter(()),
            output_dir=args.output,
            quarantine_dir=args.quarantine,
            contract=contract,
            thresholds=thresholds,
            min_rows=args.min_rows,
            capture_label=args.capture_label or str(args.capture),
            baseline_label=args.baseline_label or str(args.baseline),
        )
    except BaselineError as error:
        print(f"drift_job: {error}", file=sys.stderr)
        return 1
    summary = outputs.drift.summary
    print(
        f"drift_job: {summary.rows} row(s) from {summary.records} record(s) in {summary.files} file(s); "
        f"{summary.unparseable_records} unparseable; dataset drift: {summary.dataset_drift}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
