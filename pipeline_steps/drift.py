"""Drift step: PSI and KS of a dataset against the training baseline; JSON and HTML reports.

Processing-job contract (every path overridable):
  --baseline  /opt/ml/processing/input/baseline  baseline.json + reference.npz from preprocess
  --input     /opt/ml/processing/input/data      CSV file(s) to check (raw or canonical headers)
  --output    /opt/ml/processing/output/drift    drift_report.json, drift_report.html
Thresholds: --max-feature-psi, --ks-p-value, --max-drifted-feature-share (the pipeline passes the
environment config's values); any left out are read from --environment's config where cdk.json exists.
Exit status: 0 report written (3 instead if drift and --fail-on-drift), 1 unusable data or baseline,
2 bad arguments, contract or configuration.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from keel.contract import ContractError, load_contract
from keel.drift.baseline import BaselineError, load_baseline
from keel.drift.detect import DriftReport, compare, resolve_thresholds
from keel.drift.reports import write_reports
from keel.quality.loading import load_frame
from keel.quality.reading import DataFileError
from pipeline_steps.container import (
    EXIT_DRIFT,
    EXIT_FAILED,
    EXIT_OK,
    EXIT_USAGE,
    configure_logging,
    processing_input,
    processing_output,
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="drift", description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", type=Path, default=processing_input("baseline"))
    parser.add_argument("--input", type=Path, default=processing_input("data"))
    parser.add_argument("--output", type=Path, default=processing_output("drift"))
    parser.add_argument("--contract", help="contract name or path (default: the baseline's)")
    parser.add_argument("--max-feature-psi", type=float)
    parser.add_argument("--ks-p-value", type=float)
    parser.add_argument("--max-drifted-feature-share", type=float)
    parser.add_argument("--environment", help="config environment for thresholds not given (default: local)")
    parser.add_argument("--fail-on-drift", action="store_true", help="exit 3 when the dataset drifted")
    return parser


def summary_lines(report: DriftReport) -> list[str]:
    lines = [f"{'feature':24s} {'psi':>8s} {'ks':>8s} {'p-value':>10s}  drifted"]
    for f in report.features:
        psi = "-" if f.psi is None else f"{f.psi:8.4f}"
        ks = "-" if f.ks_statistic is None else f"{f.ks_statistic:8.4f}"
        p = "-" if f.ks_p_value is None else f"{f.ks_p_value:10.3g}"
        lines.append(f"{f.name:24s} {psi:>8s} {ks:>8s} {p:>10s}  {'yes' if f.drifted else 'no'}")
    verdict = "DRIFT" if report.dataset_drift else "no drift"
    lines.append(f"{verdict}: {len(report.drifted_features)}/{len(report.features)} features drifted")
    return lines


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    log = configure_logging()
    try:
        thresholds = resolve_thresholds(
            args.environment,
            max_feature_psi=args.max_feature_psi,
            ks_p_value=args.ks_p_value,
            max_drifted_feature_share=args.max_drifted_feature_share,
        )
        baseline = load_baseline(args.baseline)
        contract = load_contract(args.contract or baseline.document.contract)
    except BaselineError as error:
        print(f"drift: {error}", file=sys.stderr)
        return EXIT_FAILED
    except (ContractError, ValueError) as error:  # ConfigError and pydantic errors are ValueErrors too
        print(f"drift: {error}", file=sys.stderr)
        return EXIT_USAGE
    features = list(contract.drift_features)
    try:
        current = load_frame(args.input, contract, features)
        result = compare(
            baseline,
            current,
            thresholds,
            features=features,
            reference_label=str(args.baseline),
            current_label=str(args.input),
        )
    except (DataFileError, ValueError) as error:
        print(f"drift: {error}", file=sys.stderr)
        return EXIT_FAILED
    json_path, html_path = write_reports(result, baseline, args.output)
    print("\n".join(summary_lines(result.report)))
    log.info("drift reports: %s, %s", json_path, html_path)
    return EXIT_DRIFT if args.fail_on_drift and result.report.dataset_drift else EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
