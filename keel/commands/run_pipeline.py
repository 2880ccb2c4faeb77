"""`keel run-pipeline --env local --data PATH|s3://...`: run the deployed pipeline with the local runner.

A local file is first landed in the raw bucket (a new object version); an S3 URI is used as it is. Progress
is printed while the steps run; a summary table and the lineage record's location follow. Exit status:
0 the execution succeeded, 1 it failed (the failing step and its reason are printed), 2 bad input.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from keel.cli import UsageError


def run(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.table import Table

    from keel.aws import NoLocalAwsError, client
    from keel.config import load_environment
    from keel.lineage.record import Trigger
    from keel.local.runner.local_run import land_file, run_training

    console = Console(stderr=False, highlight=False)
    config = load_environment(args.env)
    parameters = {}
    for item in args.parameter:
        name, sep, value = item.partition("=")
        if not sep:
            raise UsageError(f"--parameter expects NAME=VALUE, got {item!r}")
        parameters[name] = value
    try:
        s3 = client(config, "s3", endpoint_url=args.endpoint_url)
        sagemaker = client(config, "sagemaker", endpoint_url=args.endpoint_url)
    except NoLocalAwsError as error:
        raise UsageError(str(error)) from None
    version = None
    if args.data.startswith("s3://"):
        data_uri = args.data
    else:
        data_uri, version = land_file(s3, config, Path(args.data))
        console.print(f"landed {args.data} as {data_uri} (version {version})")

    def progress(step: str, status: str, detail: str) -> None:
        marks = {"Executing": "[cyan]…[/]", "Succeeded": "[green]✓[/]", "Failed": "[red]✗[/]"}
        console.print(f"  {marks.get(status, '-')} {step:20s} {status:10s} {detail}")

    console.print(f"running pipeline of env [bold]{config.name}[/] on {data_uri}")
    result = run_training(
        config,
        sagemaker=sagemaker,
        s3=s3,
        data_uri=data_uri,
        data_version=version,
        trigger=Trigger(reason=args.reason, source="cli"),
        parameters=parameters,
        progress=progress,
    )
    table = Table(title=f"Execution {result.execution_id}: {result.status}")
    for column in ("step", "type", "status", "detail"):
        table.add_column(column)
    for step in result.steps:
        table.add_row(step.name, step.type, step.status, step.detail[:90])
    console.print(table)
    console.print(f"model package: {result.model_package_arn or 'not registered'}")
    if result.failure_reason:
        console.print(f"[red]failed:[/] {result.failure_reason}")
    record_uri = _record_lineage(config, sagemaker.meta.endpoint_url, result.execution_arn)
    console.print(f"lineage record (written by the deployed lineage recorder): {record_uri}")
    return 0 if result.status == "Succeeded" else 1


def _record_lineage(config: Any, endpoint_url: str, execution_arn: str) -> str:
    """The execution's end, routed by the deployed rule to the lineage recorder, runs its deployed handler
    (in-process: the local AWS does not run Lambda code yet); the URI of the record it wrote."""
    import tempfile

    from keel.aws import client
    from keel.scenario.lambdas import LocalLambdas

    with tempfile.TemporaryDirectory(prefix="keel-lambda-logs-") as logs:
        lambdas = LocalLambdas(
            config, client(config, "lambda", endpoint_url=endpoint_url), endpoint_url, Path(logs)
        )
        try:
            outcomes = lambdas.deliver("lineage_recorder")
        finally:
            lambdas.close()
    written = [o for o in outcomes if o.get("execution_arn") == execution_arn]
    return str(written[-1]["record_uri"]) if written else "not written (its status change did not reach it)"


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("run-pipeline", help="run the training pipeline with the local runner")
    parser.add_argument("--env", default="local", help="environment (default: local)")
    parser.add_argument("--data", required=True, help="local CSV file or s3:// URI of the training data")
    parser.add_argument("--reason", default="manual run", help="trigger reason recorded in the lineage")
    parser.add_argument(
        "--parameter",
        "-p",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="pipeline parameter override (repeatable), e.g. -p MinAccuracy=0.6",
    )
    parser.add_argument("--endpoint-url", help="AWS endpoint (default for env local: the local server)")
    parser.set_defaults(handler=run)
