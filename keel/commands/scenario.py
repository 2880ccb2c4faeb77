"""`keel scenario`: run Keel's production loop on the local AWS (`make local` runs it after deploying)."""

from __future__ import annotations

import argparse
from pathlib import Path

from keel.cli import UsageError
from keel.config import PROJECT_ROOT


def run(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.table import Table

    from keel.aws import NoLocalAwsError, client
    from keel.config import load_environment
    from keel.scenario import run_scenario

    console = Console(highlight=False)
    config = load_environment("local")
    try:
        s3, sagemaker, kms = (client(config, service) for service in ("s3", "sagemaker", "kms"))
    except NoLocalAwsError as error:
        raise UsageError(str(error)) from None
    summary = run_scenario(
        config,
        s3=s3,
        sagemaker=sagemaker,
        kms=kms,
        report_dir=args.report_dir,
        say=lambda line: console.print(line),
    )
    table = Table(title="Keel local scenario")
    for column in ("run", "execution", "status", "validation", "quarantined", "accuracy", "model package"):
        table.add_column(column)
    for item in summary.executions:
        accuracy = item["accuracy"]
        table.add_row(
            item["label"],
            item["execution_id"],
            item["status"],
            str(item["validation_passed"]),
            str(item["quarantined_rows"]),
            f"{accuracy:.3f}" if accuracy is not None else "-",
            (item["model_package_arn"] or "-").rsplit("/", 2)[-2:][-1],
        )
    console.print(table)
    if summary.gate:
        console.print(f"gate: {summary.gate['decision']} (evidence {summary.gate['evidence']})")
    if summary.drift:
        console.print(
            f"red-wine drift: {summary.drift['dataset_drift']} "
            f"({', '.join(summary.drift['drifted_features'])})"
        )
    console.print(f"report folder: {summary.report_dir}")
    white = summary.executions[0] if summary.executions else {}
    corrupted = summary.executions[1] if len(summary.executions) > 1 else {}
    ok = (
        white.get("status") == "Succeeded"
        and corrupted.get("status") == "Failed"
        and bool(summary.drift and summary.drift["dataset_drift"])
    )
    return 0 if ok else 1


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser("scenario", help="run Keel's production loop on the local AWS")
    parser.add_argument("--report-dir", type=Path, default=PROJECT_ROOT / ".keel" / "report")
    parser.set_defaults(handler=run)
