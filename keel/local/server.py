"""`python -m keel.local.server`: moto server with Keel's extensions, for one account and region.

Binds the given host/port, serves moto's API plus `GET /_keel/health` (JSON: pid, account, region,
extensions) so that `keel.local.process` can tell a healthy Keel server from anything else on the port,
and Keel's time controls under `/moto-api/keel/` (`keel.local.control_api`). A clock thread fires due
schedules and evaluates due alarms every `--tick-seconds` (`keel.local.timekeeper`).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import os
import signal
import sys
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

from keel.local import control_api, custom_resources, envfile

HEALTH_PATH = "/_keel/health"
LAMBDA_EVENTS_PATH = "/_keel/lambda-events"  # keel.local.patches.events_lambda_targets
ENDPOINT_ENV = "KEEL_LOCAL_ENDPOINT"
TICK_ENV = "KEEL_LOCAL_TICK_SECONDS"  # the clock thread's interval; 0 stops it (time moves only on request)
DEFAULT_TICK_SECONDS = 10.0
PACKAGE_DIR = Path(__file__).resolve().parent


def code_fingerprint() -> str:
    """A hash of Keel's local-AWS code: a running server built from other code is not reused."""
    digest = hashlib.sha256()
    for path in sorted(PACKAGE_DIR.rglob("*.py")):
        digest.update(path.relative_to(PACKAGE_DIR).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m keel.local.server", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument(
        "--account", required=True, help="the local environment's account id (MOTO_ACCOUNT_ID)"
    )
    parser.add_argument("--region", required=True)
    parser.add_argument(
        "--provider",
        action="append",
        default=[],
        metavar="Custom::Type=module:function[@service,...]",
        help="register a Python provider for a custom resource type (repeatable)",
    )
    parser.add_argument(
        "--tick-seconds",
        type=float,
        default=float(os.environ.get(TICK_ENV) or DEFAULT_TICK_SECONDS),
        help=f"fire due schedules and evaluate due alarms every N seconds; 0: only on request "
        f"(default ${TICK_ENV} or {DEFAULT_TICK_SECONDS:g})",
    )
    return parser.parse_args(argv)


def configure_environment(args: argparse.Namespace) -> None:
    """Must run before moto is imported: moto reads some settings at import time."""
    os.environ["MOTO_ACCOUNT_ID"] = args.account
    os.environ["MOTO_PORT"] = str(args.port)
    os.environ.setdefault("AWS_DEFAULT_REGION", args.region)
    # Providers of custom resources call back into this server; `localhost` because moto's
    # CloudFormation resolves template URLs only for that host name.
    os.environ[ENDPOINT_ENV] = f"http://localhost:{args.port}"
    # Whatever runs in here (providers, boto3 clients) must never find real credentials.
    for key in envfile.UNSET:
        os.environ.pop(key, None)
    os.environ["AWS_ACCESS_KEY_ID"] = envfile.FAKE_ACCESS_KEY_ID
    os.environ["AWS_SECRET_ACCESS_KEY"] = envfile.FAKE_SECRET_ACCESS_KEY


def with_health(app: Callable[..., Iterable[bytes]], info: dict[str, Any]) -> Callable[..., Iterable[bytes]]:
    """moto's app plus Keel's own paths: the health document, the events kept for Lambda functions, and the
    time controls."""
    health = json.dumps(info).encode()

    def answer(start_response: Callable[..., Any], status: str, body: bytes) -> Iterable[bytes]:
        start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
        return [body]

    def wrapped(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        path = environ.get("PATH_INFO")
        if path == HEALTH_PATH:
            return answer(start_response, "200 OK", health)
        if control_api.handles(path):
            return control_api.answer(environ, start_response, account=info["account"], region=info["region"])
        if path == LAMBDA_EVENTS_PATH:
            from urllib.parse import parse_qs

            from keel.local.patches import events_lambda_targets

            query = {k: v[-1] for k, v in parse_qs(environ.get("QUERY_STRING", "")).items()}
            if not query.get("function"):
                return answer(start_response, "400 Bad Request", b'{"message": "function= is required"}')
            events = events_lambda_targets.take(
                query.get("account", info["account"]), query.get("region", info["region"]), query["function"]
            )
            return answer(start_response, "200 OK", json.dumps(events, default=str).encode())
        return app(environ, start_response)

    return wrapped


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    configure_environment(args)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    providers = [custom_resources.parse_spec(spec) for spec in args.provider]  # fail fast, before moto
    # moto is imported only now, after configure_environment: it reads settings at import time.

    from moto.moto_server.werkzeug_app import (
        DomainDispatcherApplication,
        MotoRequestHandler,
        create_backend_app,
    )
    from werkzeug.serving import run_simple

    from keel.local import extensions, timekeeper

    for provider in providers:
        custom_resources.register(provider)
    installed = extensions.install_all()
    logging.getLogger("keel.local").info(
        "Keel local AWS: account %s, region %s, %d extensions", args.account, args.region, len(installed)
    )
    if args.tick_seconds > 0:
        timekeeper.Ticker(args.tick_seconds).start()
    # SIGTERM (keel local down) ends the process cleanly, like moto's own server does.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    info = {
        "service": "keel-local-aws",
        "pid": os.getpid(),
        "account": args.account,
        "region": args.region,
        "extensions": [e.name for e in installed],
        "code": code_fingerprint(),
        "tick_seconds": args.tick_seconds,
    }
    app = with_health(DomainDispatcherApplication(create_backend_app), info)
    run_simple(args.host, args.port, app, threaded=True, request_handler=MotoRequestHandler)
    return 0


if __name__ == "__main__":
    sys.exit(main())
