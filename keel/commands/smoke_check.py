"""`keel smoke-check --env NAME`: is a deployed environment healthy? Checks it through the AWS APIs.

Exit status: 0 every check passed, 1 a check failed (each failure is printed with what and where),
2 bad input. The delivery pipeline runs it after each stage, with `--role-arn` naming the environment's
read-only smoke-check role, and stops promotion on a non-zero exit.
"""

from __future__ import annotations

import argparse

from keel.cli import UsageError


def run(args: argparse.Namespace) -> int:
    from keel.aws import NoLocalAwsError
    from keel.config import load_environment
    from keel.delivery.checks import select
    from keel.delivery.clients import client_factory
    from keel.delivery.smoke import SmokeContext, format_results, run_checks

    config = load_environment(args.env)
    checks = select(args.check)
    try:
        factory = client_factory(config, role_arn=args.role_arn, endpoint_url=args.endpoint_url)
    except NoLocalAwsError as error:
        raise UsageError(str(error)) from None
    results = run_checks(SmokeContext(config, factory), checks)
    print(format_results(config, results))
    return 0 if all(result.ok for result in results) else 1


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("smoke-check", help="check that a deployed environment is healthy")
    parser.add_argument("--env", required=True, help="environment to check (from cdk.json)")
    parser.add_argument("--role-arn", help="role to assume in the environment's account first")
    parser.add_argument("--endpoint-url", help="AWS endpoint (default for env local: the local server)")
    parser.add_argument(
        "--check",
        action="append",
        metavar="NAME",
        help="run only this check (repeatable); default: all of them",
    )
    parser.set_defaults(handler=run)
