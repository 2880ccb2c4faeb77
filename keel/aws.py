"""AWS clients for the CLI and the local runner. Environment `local` always talks to the local server (the
endpoint from AWS_ENDPOINT_URL or `.keel/local.json`, fake credentials): it can never reach a real account."""

from __future__ import annotations

import json
import os
from typing import Any

from keel.config import PROJECT_ROOT, EnvironmentConfig

LOCAL_STATE = PROJECT_ROOT / ".keel" / "local.json"
LOCAL_ENVIRONMENT = "local"
FAKE_CREDENTIALS = {"aws_access_key_id": "keel-local", "aws_secret_access_key": "keel-local"}


class NoLocalAwsError(RuntimeError):
    """Environment local was asked for but no local AWS is running."""


def local_endpoint() -> str:
    endpoint = os.environ.get("AWS_ENDPOINT_URL")
    if endpoint:
        return endpoint
    try:
        info = json.loads(LOCAL_STATE.read_text(encoding="utf-8"))
        return f"http://localhost:{int(info['port'])}"
    except (OSError, ValueError, KeyError):
        raise NoLocalAwsError(
            "no local AWS is running: start it with `make local` (or `keel local up`)"
        ) from None


def session_for(config: EnvironmentConfig, *, endpoint_url: str | None = None) -> tuple[Any, str | None]:
    """(boto3 session, endpoint URL or None) for an environment."""
    import boto3

    if config.name == LOCAL_ENVIRONMENT or endpoint_url:
        endpoint = endpoint_url or local_endpoint()
        session = boto3.session.Session(**FAKE_CREDENTIALS, region_name=config.region)
        return session, endpoint
    return boto3.session.Session(region_name=config.region), None


def client(config: EnvironmentConfig, service: str, *, endpoint_url: str | None = None) -> Any:
    session, endpoint = session_for(config, endpoint_url=endpoint_url)
    return session.client(service, endpoint_url=endpoint)
