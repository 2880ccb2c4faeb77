"""The environment that points AWS clients at the local server (fake credentials, local endpoint).

`write()` puts it in `.keel/local.env` as export lines: after `source .keel/local.env` the AWS CLI,
boto3 and the CDK CLI all talk to the local account.
"""

from __future__ import annotations

import shlex
from pathlib import Path

FAKE_ACCESS_KEY_ID = "keel-local"
FAKE_SECRET_ACCESS_KEY = "keel-local"  # noqa: S105 - fake credentials for the local server only
# Variables that would send clients elsewhere or sign with real credentials.
UNSET = ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN", "AWS_CA_BUNDLE")


def aws_environment(endpoint_url: str, account_id: str, region: str) -> dict[str, str]:
    return {
        "AWS_ENDPOINT_URL": endpoint_url,
        "AWS_DEFAULT_REGION": region,
        "AWS_REGION": region,
        "AWS_ACCESS_KEY_ID": FAKE_ACCESS_KEY_ID,
        "AWS_SECRET_ACCESS_KEY": FAKE_SECRET_ACCESS_KEY,
        "AWS_ACCOUNT_ID": account_id,
        "CDK_DEFAULT_ACCOUNT": account_id,
        "CDK_DEFAULT_REGION": region,
    }


def render(environment: dict[str, str], *, comment: str) -> str:
    lines = [f"# {comment}", *(f"export {key}={shlex.quote(value)}" for key, value in environment.items())]
    lines.append(f"unset {' '.join(UNSET)}")
    return "\n".join(lines) + "\n"


def write(path: Path, environment: dict[str, str], *, comment: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render(environment, comment=comment), encoding="utf-8")
    return path
