"""`keel gate MODEL_PACKAGE_ARN [--env NAME] [--dry-run]`: run the policy gate on one model version.

The same library the gate Lambda runs (`keel.gate`). Prints each policy's result, the decision and where its
evidence was written. `--dry-run` evaluates without writing evidence or changing the package. In env local
(moto: no Macie ListFindings, no CloudTrail LookupEvents) open findings come from Keel's quarantine records.
Exit status: 0 approved or awaiting a human, 1 rejected, 2 bad input (no such version, not Keel's, no usable
credentials: nothing is written), 3 not ready (the execution is still running, or AWS kept failing
transiently; try again), 4 an AWS error stopped the gate before it decided (e.g. access denied to the
package): one line naming it.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from keel.cli import UsageError

EXIT_REJECTED, EXIT_NOT_READY, EXIT_AWS_ERROR = 1, 3, 4


def _session(config: Any, endpoint_url: str | None) -> tuple[Any, str | None]:
    from keel.aws import NoLocalAwsError, session_for

    try:
        return session_for(config, endpoint_url=endpoint_url)
    except NoLocalAwsError as error:
        raise UsageError(str(error)) from None


def build_deps(config: Any, endpoint_url: str | None) -> Any:
    from keel.aws import LOCAL_ENVIRONMENT, RETRYING
    from keel.gate.local import local_gate_deps
    from keel.gate.model import Actor
    from keel.gate.runtime import gate_deps
    from keel.gate.settings import GovernanceSettings

    session, endpoint = _session(config, endpoint_url)
    identity = session.client("sts", endpoint_url=endpoint).get_caller_identity().get("Arn")
    actor = Actor(kind="policy-gate", identity=identity, source="cli")
    if config.name == LOCAL_ENVIRONMENT:

        def client(service: str) -> Any:
            return session.client(service, endpoint_url=endpoint, config=RETRYING)

        return local_gate_deps(
            config,
            sagemaker=client("sagemaker"),
            s3=client("s3"),
            kms=client("kms"),
            sns=session.client("sns", endpoint_url=endpoint),  # Publish is not idempotent: no retry mode
            actor=actor,
        )
    return gate_deps(GovernanceSettings.from_config(config), session, endpoint_url=endpoint, actor=actor)


def run(args: argparse.Namespace) -> int:
    from botocore.exceptions import ClientError
    from rich.console import Console
    from rich.table import Table

    from keel.aws import RetryLaterError, credentials_problem, describe_error
    from keel.config import load_environment
    from keel.gate.decide import RefusedReferenceError, gate_model_package
    from keel.gate.model import ApprovalStatus, TriggerInfo

    console = Console(highlight=False)
    config = load_environment(args.env)
    deps = build_deps(config, args.endpoint_url)
    try:
        outcome = gate_model_package(
            deps, args.model_package, trigger=TriggerInfo(source="cli"), dry_run=args.dry_run
        )
    except RefusedReferenceError as error:  # nothing was evaluated or written
        raise UsageError(str(error)) from None
    except RetryLaterError as error:  # the execution still runs, or AWS kept failing transiently
        console.print(f"[yellow]not ready:[/] {error}", soft_wrap=True)
        return EXIT_NOT_READY
    except ClientError as error:
        if credentials_problem(error) is not None:
            raise  # keel.cli says it, as for every command
        print(f"keel gate: error: {error.operation_name}: {describe_error(error)}", file=sys.stderr)
        return EXIT_AWS_ERROR
    if args.json:
        print(json.dumps(outcome.as_dict() | {"evidence": _evidence(outcome)}, indent=2))
    else:
        evidence = outcome.evidence
        if evidence and evidence.policies:
            table = Table(title=f"Policies for {outcome.model_package_arn}")
            for column in ("policy", "severity", "result", "reason"):
                table.add_column(column)
            for result in evidence.policies:
                mark = "[green]pass[/]" if result.passed else "[red]FAIL[/]"
                table.add_row(result.id, result.severity.value, mark, result.reason[:160])
            console.print(table)
        decision = outcome.decision.value if outcome.decision else "none"
        prefix = "dry run — would decide" if outcome.action == "dry-run" else outcome.action
        console.print(f"{prefix}: [bold]{decision}[/] — {outcome.message}", soft_wrap=True)
        if outcome.evidence_uri:
            console.print(f"evidence: {outcome.evidence_uri}", soft_wrap=True)
    return EXIT_REJECTED if outcome.decision is ApprovalStatus.REJECTED else 0


def _evidence(outcome: Any) -> Any:
    return outcome.evidence.model_dump(mode="json") if outcome.evidence else None


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("gate", help="run the policy gate on a model version", description=__doc__)
    parser.add_argument(
        "model_package", metavar="MODEL_PACKAGE_ARN", help="model package ARN or version number"
    )
    parser.add_argument("--env", default="local", help="environment (default: local)")
    parser.add_argument("--dry-run", action="store_true", help="evaluate only: no evidence, no status change")
    parser.add_argument("--json", action="store_true", help="print the outcome and its evidence as JSON")
    parser.add_argument("--endpoint-url", help="AWS endpoint (default for env local: the local server)")
    parser.set_defaults(handler=run)
