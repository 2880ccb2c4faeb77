"""Any keel command run for an environment without usable credentials: one line naming the problem, exit 2,
no traceback, nothing written."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from keel.cli import main
from tests.unit.gate.world import World, keel_config

_CREDENTIAL_VARIABLES = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE")


@pytest.fixture
def moto_world() -> Iterator[World]:
    """Set up before `monkeypatch` (torn down after it), so moto restores the tests' own fake keys last."""
    with mock_aws():
        yield World(keel_config("dev"))


@pytest.fixture
def no_credentials(moto_world: World, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> World:
    for name in _CREDENTIAL_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    for name in ("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_CONTAINER_CREDENTIALS_FULL_URI"):
        monkeypatch.delenv(name, raising=False)
    return moto_world


def _objects(s3: Any) -> list[tuple[str, str]]:
    """Every object in moto's account."""
    return sorted(
        (bucket["Name"], item["Key"])
        for bucket in s3.list_buckets()["Buckets"]
        for item in s3.list_objects_v2(Bucket=bucket["Name"]).get("Contents", [])
    )


@pytest.mark.parametrize(
    ("variables", "problem"),
    [
        ({}, "no usable AWS credentials: Unable to locate credentials"),
        ({"AWS_ACCESS_KEY_ID": "AKIAEXAMPLE"}, "no usable AWS credentials: Partial credentials found"),
        (
            {"AWS_PROFILE": "keel-nope"},
            "unknown AWS profile: The config profile (keel-nope) could not be found",
        ),
    ],
)
@pytest.mark.parametrize("argv", [["gate", "1", "--env", "dev"], ["gate", "1", "--env", "dev", "--dry-run"]])
def test_a_command_without_credentials_is_one_line_and_exit_2(
    no_credentials: World,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    variables: dict[str, str],
    problem: str,
    argv: list[str],
) -> None:
    # Made before the variables are set: explicit fake keys (the environment has none).
    s3 = boto3.client("s3", region_name="us-east-1", aws_access_key_id="t", aws_secret_access_key="t")
    before = _objects(s3)
    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    assert main(argv) == 2
    captured = capsys.readouterr()
    [line] = captured.err.splitlines()
    assert line.startswith("keel gate: error: ") and problem in line and "for environment 'dev'" in line
    assert "Traceback" not in captured.err and captured.out == ""
    assert _objects(s3) == before


def test_rejected_credentials_are_a_usage_error_too(
    moto_world: World, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from botocore.exceptions import ClientError

    def expired(*_: Any, **__: Any) -> Any:
        raise ClientError(
            {
                "Error": {
                    "Code": "ExpiredToken",
                    "Message": "The security token included in the request is expired",
                }
            },
            "GetCallerIdentity",
        )

    monkeypatch.setattr("keel.commands.gate.build_deps", expired)
    assert main(["gate", "1", "--env", "dev"]) == 2
    [line] = capsys.readouterr().err.splitlines()
    assert "AWS rejected the credentials (ExpiredToken: The security token" in line


def test_other_errors_are_not_hidden(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*_: Any, **__: Any) -> Any:
        raise RuntimeError("a bug")

    monkeypatch.setattr("keel.commands.gate.build_deps", broken)
    with pytest.raises(RuntimeError, match="a bug"):
        main(["gate", "1", "--env", "dev"])
