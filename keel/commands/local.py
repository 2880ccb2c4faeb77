"""`keel local up|down|status`: Keel's platform on this machine, deployed into a local AWS (moto server).

`up` starts (or reuses) the server, bootstraps and deploys every stack of the `local` environment with the
real CDK CLI, then lists what was deployed as the service APIs report it. `down` stops the server (its
state lives in memory only). `status` shows the server and the deployed resources.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

from keel.cli import UsageError
from keel.config import PROJECT_ROOT, EnvironmentConfig, load_environment
from keel.local import envfile, process

LOCAL_ENVIRONMENT = "local"
OUTPUT_DIR = PROJECT_ROOT / "cdk.out.local"
APP_FILE = PROJECT_ROOT / "app.py"


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("local", help="run Keel on a local AWS (moto server)", description=__doc__)
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    up = actions.add_parser("up", help="start the local AWS, deploy all stacks, list what was deployed")
    up.add_argument("--no-deploy", action="store_true", help="only start (or reuse) the server")
    up.add_argument("--port", type=int, help="port for a new server (default: a free port)")
    up.add_argument(
        "--fresh", action="store_true", help="replace a running server: start from an empty local AWS"
    )
    up.add_argument(
        "--output", type=Path, default=OUTPUT_DIR, help="CDK output directory (default: cdk.out.local)"
    )
    up.add_argument("stacks", nargs="*", metavar="STACK", help="stacks to deploy (default: all)")
    up.set_defaults(handler=up_command)
    down = actions.add_parser("down", help="stop the local AWS (its state is lost)")
    down.set_defaults(handler=down_command)
    status = actions.add_parser("status", help="show the local AWS and what is deployed in it")
    status.set_defaults(handler=status_command)


def _say(message: str) -> None:
    print(message, flush=True)


def _relative(path: str) -> str:
    try:
        return str(Path(path).relative_to(PROJECT_ROOT))
    except ValueError:
        return path


def _describe(server: process.ServerInfo) -> str:
    log = _relative(server.log_path)
    return f"{server.endpoint_url} (pid {server.pid}, account {server.account_id}, log {log})"


def write_env_file(paths: process.StatePaths, server: process.ServerInfo) -> None:
    environment = envfile.aws_environment(server.endpoint_url, server.account_id, server.region)
    envfile.write(paths.env_file, environment, comment=f"Keel local AWS (pid {server.pid}): source this file")


def endpoint_notice(previous_port: int | None, server: process.ServerInfo, env_file: str) -> str | None:
    """A hint when shells that sourced the env file before now point at a dead endpoint."""
    if previous_port and previous_port != server.port:
        return (
            f"the endpoint changed (port {previous_port} → {server.port}): run `source {env_file}` "
            "again in every shell that sourced it"
        )
    shell = os.environ.get("AWS_ENDPOINT_URL", "")
    if shell.startswith(("http://localhost:", "http://127.0.0.1:")) and shell != server.endpoint_url:
        return f"this shell's AWS_ENDPOINT_URL is {shell}: run `source {env_file}` to use the local AWS"
    return None


def _bootstrapped(clients: Any) -> bool:
    from keel.local.cdk import BOOTSTRAP_STACK

    try:
        stack = clients.cloudformation.describe_stacks(StackName=BOOTSTRAP_STACK)["Stacks"][0]
    except Exception:  # any failure means: bootstrap (again)
        return False
    return str(stack["StackStatus"]).endswith("_COMPLETE") and "ROLLBACK" not in stack["StackStatus"]


def print_inventory(server: process.ServerInfo) -> None:
    from keel.local import inventory

    clients = inventory.Clients(server.endpoint_url, server.region)
    _say(inventory.render(inventory.collect(clients)))


def up_command(args: argparse.Namespace) -> int:
    config: EnvironmentConfig = load_environment(LOCAL_ENVIRONMENT)
    if not args.no_deploy and not APP_FILE.exists():
        raise UsageError(
            f"no CDK app at {APP_FILE}; use `keel local up --no-deploy` to only start the server"
        )
    paths = process.default_paths()
    if args.fresh:
        try:
            if process.stop(paths):
                _say("local AWS stopped: starting from an empty one (--fresh)")
        except process.LocalServerError as error:
            raise UsageError(str(error)) from None
    previous, previous_port = process.status(paths), process.last_port(paths)
    try:
        server, started = process.start(
            paths, account_id=config.account, region=config.region, port=args.port
        )
    except process.LocalServerError as error:
        raise UsageError(str(error)) from None
    write_env_file(paths, server)
    if previous is not None and started:
        _say(f"local AWS (pid {previous.pid}) ran other code of keel.local: replaced, its state is gone")
    _say(f"local AWS {'started' if started else 'reused'}: {_describe(server)}")
    notice = endpoint_notice(previous_port, server, _relative(str(paths.env_file)))
    if notice:
        _say(notice)
    if args.no_deploy:
        _say(f"source {_relative(str(paths.env_file))} to use it with the AWS CLI")
        return 0

    from keel.local import inventory
    from keel.local.cdk import CdkCli, CdkError

    cdk = CdkCli(
        server.endpoint_url, server.account_id, server.region, args.output, context={"env": LOCAL_ENVIRONMENT}
    )
    try:
        if _bootstrapped(inventory.Clients(server.endpoint_url, server.region)):
            _say("CDK bootstrap: already done")
        else:
            cdk.bootstrap()
        cdk.deploy(args.stacks)
    except CdkError as error:
        _say(f"deploy failed: {error} (server log: {_relative(server.log_path)})")
        return 1
    _say("\nDeployed resources, as the service APIs report them:")
    print_inventory(server)
    _say(f"\nsource {_relative(str(paths.env_file))} to inspect them with the AWS CLI")
    return 0


def down_command(_args: argparse.Namespace) -> int:
    try:
        stopped = process.stop(process.default_paths())
    except process.LocalServerError as error:
        raise UsageError(str(error)) from None
    _say("local AWS stopped" if stopped else "local AWS was not running")
    return 0


def status_command(_args: argparse.Namespace) -> int:
    server = process.status(process.default_paths())
    if server is None:
        _say("local AWS is not running (start it with `keel local up`)")
        return 3  # like `systemctl status`: not running
    _say(f"local AWS running: {_describe(server)}")
    print_inventory(server)
    return 0
