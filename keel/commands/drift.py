"""`keel drift REFERENCE CURRENT`: PSI and KS per feature of CURRENT against REFERENCE.

REFERENCE is a CSV file/directory (a baseline is built from it) or a baseline directory written by the
preprocess step. Thresholds come from the environment config (--env), each overridable. Writes
drift_report.json and drift_report.html to --out; exit 0 no drift, 3 drift, 2 bad input.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from keel.contract import DEFAULT_CONTRACT

DEFAULT_OUT = Path(".keel") / "drift"
EXIT_DRIFT = 3


def run(args: argparse.Namespace) -> int:
    from keel.cli import UsageError
    from keel.contract import load_contract
    from keel.drift.baseline import build_baseline, is_baseline_dir, load_baseline
    from keel.drift.detect import compare, resolve_thresholds
    from keel.drift.reports import write_reports
    from keel.quality.loading import load_frame

    for path in (args.reference, args.current):
        if not path.exists():
            raise UsageError(f"{path}: no such file or directory")
    thresholds = resolve_thresholds(
        args.env,
        max_feature_psi=args.max_feature_psi,
        ks_p_value=args.ks_p_value,
        max_drifted_feature_share=args.max_drifted_feature_share,
    )
    contract = load_contract(args.contract)
    features = list(contract.drift_features)
    if is_baseline_dir(args.reference):
        baseline = load_baseline(args.reference)
    else:
        baseline = build_baseline(
            load_frame(args.reference, contract, features), contract, features, bins=args.bins
        )
    current = load_frame(args.current, contract, features)
    result = compare(
        baseline,
        current,
        thresholds,
        features=features,
        reference_label=str(args.reference),
        current_label=str(args.current),
    )
    json_path, html_path = write_reports(result, baseline, args.out)
    _print_table(result.report)
    print(f"reports: {json_path}  {html_path}")
    return EXIT_DRIFT if result.report.dataset_drift else 0


def _print_table(report: object) -> None:
    from rich.console import Console
    from rich.table import Table

    from keel.drift.detect import DriftReport

    assert isinstance(report, DriftReport)
    table = Table(title=f"drift of {report.contract} {report.contract_version}")
    for header in ("feature", "PSI", "KS stat", "KS p-value", "drifted"):
        table.add_column(header, justify="left" if header in ("feature", "drifted") else "right")
    for f in report.features:
        table.add_row(
            f.name,
            "-" if f.psi is None else f"{f.psi:.4f}",
            "-" if f.ks_statistic is None else f"{f.ks_statistic:.4f}",
            "-" if f.ks_p_value is None else f"{f.ks_p_value:.3g}",
            "[bold red]yes[/] " + "; ".join(f.reasons) if f.drifted else "no",
        )
    console = Console(highlight=False)
    console.print(table)
    verdict = "[bold red]DRIFT[/]" if report.dataset_drift else "[green]no drift[/]"
    console.print(
        f"{verdict}: {len(report.drifted_features)} of {len(report.features)} feature(s) drifted "
        f"({report.drifted_share:.0%}, limit {report.thresholds.max_drifted_feature_share:.0%})"
    )


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "drift", help="compare a dataset with a reference or baseline (PSI, KS)", description=__doc__
    )
    parser.add_argument(
        "reference", type=Path, metavar="REFERENCE", help="CSV file/directory or baseline dir"
    )
    parser.add_argument("current", type=Path, metavar="CURRENT", help="CSV file or directory")
    parser.add_argument(
        "--out", type=Path, default=DEFAULT_OUT, help=f"report directory (default {DEFAULT_OUT})"
    )
    parser.add_argument("--contract", default=DEFAULT_CONTRACT, help="contract name or YAML path")
    parser.add_argument("--env", help="environment whose thresholds apply (default: local)")
    parser.add_argument("--max-feature-psi", type=float)
    parser.add_argument("--ks-p-value", type=float)
    parser.add_argument("--max-drifted-feature-share", type=float)
    parser.add_argument("--bins", type=int, default=10, help="PSI bins when REFERENCE is a CSV (default 10)")
    parser.set_defaults(handler=run)
