"""`keel lineage MODEL_PACKAGE_ARN_OR_VERSION [--env NAME] [--out DIR]`: the lineage pack of a model version.

Assembles the pack now, from what the services hold, and writes `<group>-v<version>.lineage.json` (schema:
keel/lineage/PACK_SCHEMA.md) and a self-contained `<group>-v<version>.lineage.html` for auditors; registers
the lineage with SageMaker ML Lineage Tracking (`--no-tracking` to skip; the outcome is recorded in the pack:
recorded, failed with the reason, or not available in this region).
`keel lineage --dataset S3_URI [--version-id ID]` answers the reverse question: which model versions were
trained on this object (or on anything under a prefix ending with '/').
A version that does not exist, or no AWS credentials, is a usage error (exit 2); an AWS error that stops the
command (denied, or still failing after retries) is one line on stderr (exit 1). Nothing is written then.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from keel.cli import UsageError

DEFAULT_OUT = Path("lineage-packs")


def _session(config: Any, endpoint_url: str | None) -> tuple[Any, str | None]:
    from keel.aws import NoLocalAwsError, session_for

    try:
        return session_for(config, endpoint_url=endpoint_url)
    except NoLocalAwsError as error:
        raise UsageError(str(error)) from None


def write_pack(pack: Any, out: Path) -> tuple[Path, Path]:
    from keel.lineage.html import render_html

    out.mkdir(parents=True, exist_ok=True)
    stem = f"{pack.model_package.group}-v{pack.model_package.version}.lineage"
    json_path, html_path = out / f"{stem}.json", out / f"{stem}.html"
    json_path.write_text(pack.to_json(), encoding="utf-8")
    html_path.write_text(render_html(pack), encoding="utf-8")
    return json_path, html_path


def run(args: argparse.Namespace) -> int:
    from botocore.exceptions import BotoCoreError, ClientError

    from keel.aws import credentials_problem
    from keel.lineage.pack import pack_schema

    if args.schema:
        print(json.dumps(pack_schema(), indent=2))
        return 0
    if bool(args.model_package) == bool(args.dataset):
        raise UsageError("give either MODEL_PACKAGE_ARN_OR_VERSION or --dataset S3_URI")
    try:
        return _run(args)
    except (ClientError, BotoCoreError) as error:
        if credentials_problem(error) is not None:
            raise  # keel.cli says it, as for every command: one line, exit 2
        if isinstance(error, ClientError):
            from keel.lineage.tracking import describe_error

            print(f"keel lineage: error: {describe_error(error)}", file=sys.stderr)
        else:  # endpoint unreachable after retries, and the like
            print(f"keel lineage: error: {type(error).__name__}: {error}", file=sys.stderr)
        return 1


def _run(args: argparse.Namespace) -> int:
    from keel.config import load_environment
    from keel.gate.refs import ForeignModelPackageError
    from keel.gate.settings import GovernanceSettings
    from keel.lineage.pack import ModelVersionNotFoundError, PackSources, build_pack
    from keel.lineage.reverse import models_trained_on
    from keel.lineage.tracking import RETRIES, SageMakerLineageTracking, SkipTracking, register

    config = load_environment(args.env)
    settings = GovernanceSettings.from_config(config)
    session, endpoint = _session(config, args.endpoint_url)
    # Standard retries for every client: throttling and 5xx answers are retried, then reported.
    s3 = session.client("s3", endpoint_url=endpoint, config=RETRIES)
    sagemaker = session.client("sagemaker", endpoint_url=endpoint, config=RETRIES)
    if args.dataset:
        lookup = models_trained_on(
            settings, s3=s3, sagemaker=sagemaker, dataset_uri=args.dataset, version_id=args.version_id
        )
        document = json.dumps(lookup.as_dict(), indent=2, default=str)
        if args.out:
            args.out.mkdir(parents=True, exist_ok=True)
            (args.out / "dataset-lookup.json").write_text(document + "\n", encoding="utf-8")
        print(document)
        return 0
    sources = PackSources(settings, sagemaker, s3)  # endpoints: read now, from the same account
    try:
        pack = build_pack(sources, args.model_package)
    except (ForeignModelPackageError, ModelVersionNotFoundError) as error:
        raise UsageError(str(error)) from None
    tracker: Any = SkipTracking("--no-tracking") if args.no_tracking else SageMakerLineageTracking(sagemaker)
    pack = register(pack, tracker)
    json_path, html_path = write_pack(pack, args.out or DEFAULT_OUT)
    print(f"lineage pack of {pack.model_package.arn} ({pack.model_package.approval_status})")
    print(f"  json: {json_path}\n  html: {html_path}")
    print(f"  tracking: {pack.tracking.status} ({pack.tracking.reason})")
    for warning in pack.warnings:
        print(f"  warning: {warning}")
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("lineage", help="lineage pack of a model version", description=__doc__)
    parser.add_argument(
        "model_package",
        nargs="?",
        metavar="MODEL_PACKAGE_ARN_OR_VERSION",
        help="model package ARN or version",
    )
    parser.add_argument(
        "--dataset", metavar="S3_URI", help="which model versions were trained on this object"
    )
    parser.add_argument("--version-id", help="with --dataset: only this object version")
    parser.add_argument("--env", default="local", help="environment (default: local)")
    parser.add_argument("--out", type=Path, help=f"output folder (default: {DEFAULT_OUT})")
    parser.add_argument("--no-tracking", action="store_true", help="skip SageMaker ML Lineage Tracking")
    parser.add_argument("--schema", action="store_true", help="print the pack's JSON Schema and exit")
    parser.add_argument("--endpoint-url", help="AWS endpoint (default for env local: the local server)")
    parser.set_defaults(handler=run)
