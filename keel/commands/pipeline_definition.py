"""`keel pipeline-definition -c env=NAME`: print the training pipeline's definition JSON.

Without `--key-arn`/`--image-uri` the values that are CloudFormation tokens at synth time stay as `${...}`
placeholders (exactly what the ML stack substitutes with Fn::Sub)."""

from __future__ import annotations

import argparse
import json

from keel.cli import UsageError


def _context_env(values: list[str]) -> str | None:
    env = None
    for value in values:
        key, sep, setting = value.partition("=")
        if not sep:
            raise UsageError(f"-c expects KEY=VALUE, got {value!r}")
        if key == "env":
            env = setting
    return env


def run(args: argparse.Namespace) -> int:
    from keel.config import load_environment
    from keel.contract import load_contract
    from pipeline_steps.definition import pipeline_definition, targets_for

    config = load_environment(_context_env(args.context))
    overrides = {k: v for k, v in (("kms_key_arn", args.key_arn), ("image_uri", args.image_uri)) if v}
    definition = pipeline_definition(config, load_contract(config.contract), targets_for(config, **overrides))
    print(json.dumps(definition, indent=2, sort_keys=False))
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser("pipeline-definition", help="print the SageMaker pipeline definition JSON")
    parser.add_argument(
        "-c",
        "--context",
        action="append",
        default=[],
        metavar="env=NAME",
        help="environment, as for cdk (-c env=dev); default: local",
    )
    parser.add_argument("--key-arn", help="artifacts KMS key ARN to substitute")
    parser.add_argument("--image-uri", help="step image URI to substitute")
    parser.set_defaults(handler=run)
