"""`keel scenario`: run Keel's production loop on the deployed local platform (`make local` runs it after
`keel local up`); prints the summary tables and where the report folder is."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from keel.cli import UsageError
from keel.config import PROJECT_ROOT


def outcome_problems(summary: Any) -> list[str]:
    """What the scenario expected and did not see (empty: the loop worked end to end)."""
    problems = []
    labels = {e["label"]: e for e in summary.executions}
    white, corrupted = labels.get("white"), labels.get("corrupted")
    if not white or white["status"] != "Succeeded" or not white["model_package_arn"]:
        problems.append("the white-wine run did not register a model version")
    if not summary.deployments:
        problems.append("no version was deployed")
    if not (summary.drift and summary.drift["dataset_drift"]):
        problems.append("no drift was detected on red-wine traffic")
    if not (summary.retrain and summary.retrain.get("execution_id")):
        problems.append("the drift alarm did not start a retraining")
    if not corrupted or corrupted["status"] != "Failed" or not corrupted["quarantined_rows"]:
        problems.append("the corrupted batch was not stopped with its rows quarantined")
    if not any("data-validation" in alert["subject"] for alert in summary.alerts):
        problems.append("no data-validation alert reached the alert topic")
    if len(summary.feedback) < 2 or any(f["metric_accuracy"] is None for f in summary.feedback):
        problems.append("reviewer feedback did not publish the model-quality metric")
    return problems


def run(args: argparse.Namespace) -> int:
    from rich.console import Console

    from keel.aws import NoLocalAwsError, local_endpoint
    from keel.config import load_environment
    from keel.scenario import LocalPlatform, run_scenario
    from keel.scenario.lambdas import FunctionNotDeployedError
    from keel.scenario.tables import summary_tables

    console = Console(highlight=False)
    if not console.is_terminal:
        console = Console(highlight=False, width=160)  # a log file or CI: no 80-column wrapping
    config = load_environment("local")
    try:
        platform = LocalPlatform.connect(config, local_endpoint(), args.report_dir / "lambda-logs")
    except NoLocalAwsError as error:
        raise UsageError(str(error)) from None
    try:
        summary = run_scenario(
            platform, report_dir=args.report_dir, say=lambda line: console.print(line, soft_wrap=True)
        )
    except FunctionNotDeployedError as error:
        raise UsageError(str(error)) from None
    finally:
        platform.close()
    for table in summary_tables(summary):
        console.print(table)
    console.print(f"report folder: {summary.report_dir} (summary.json, lineage, drift reports, Lambda logs)")
    problems = outcome_problems(summary)
    for problem in problems:
        console.print(f"[red]not as expected:[/red] {problem}")
    return 1 if problems else 0


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser("scenario", help="run Keel's production loop on the local AWS")
    parser.add_argument("--report-dir", type=Path, default=PROJECT_ROOT / ".keel" / "report")
    parser.set_defaults(handler=run)
