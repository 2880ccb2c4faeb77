"""`keel lineage` on moto: a version that does not exist, missing credentials and AWS errors are one line on
stderr, and nothing is written."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from keel.cli import main
from tests.unit.gate.world import World, keel_config


@pytest.fixture
def world(monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    with mock_aws():
        session = boto3.session.Session(region_name="us-east-1")
        monkeypatch.setattr("keel.commands.lineage._session", lambda config, endpoint: (session, None))
        yield World(keel_config("local"))


def test_a_version_that_does_not_exist_is_one_line_and_writes_nothing(
    world: World, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    world.train()
    out = tmp_path / "packs"
    assert main(["lineage", "7", "--out", str(out)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    [line] = captured.err.splitlines()
    assert line.startswith("keel lineage: error: no model package version 7 in keel-local-models")
    assert "Traceback" not in captured.err and not out.exists()


def test_the_pack_of_an_existing_version_is_written_with_its_tracking_outcome(
    world: World, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run = world.train()
    assert main(["lineage", "1", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "tracking: failed (not implemented by the endpoint Keel called" in out  # moto: no lineage APIs
    pack = json.loads((tmp_path / "keel-local-models-v1.lineage.json").read_text())
    assert pack["schema_version"] == 2 and pack["model_package"]["arn"] == run.model_package_arn
    assert pack["deployments"] == [] and pack["tracking"]["status"] == "failed"


def test_no_credentials_is_one_line_and_exit_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    for name in ("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_CONTAINER_CREDENTIALS_FULL_URI"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")

    def session(config: Any, endpoint: str | None) -> tuple[Any, None]:
        return boto3.session.Session(region_name="us-east-1"), None

    monkeypatch.setattr("keel.commands.lineage._session", session)
    out = tmp_path / "packs"
    assert main(["lineage", "1", "--env", "dev", "--out", str(out)]) == 2
    captured = capsys.readouterr()
    [line] = captured.err.splitlines()
    assert line == (
        "keel lineage: error: no usable AWS credentials: Unable to locate credentials for environment 'dev'"
    )
    assert "Traceback" not in captured.err and not out.exists()


def test_a_denied_call_is_one_line_with_its_reason_and_exit_1(
    world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from botocore.stub import Stubber

    denied = boto3.client("sagemaker", region_name="us-east-1")
    stub = Stubber(denied)
    stub.add_client_error(
        "describe_model_package",
        service_error_code="AccessDeniedException",
        service_message="not authorized to perform: sagemaker:DescribeModelPackage",
        http_status_code=400,
    )
    stub.activate()

    class Session:
        def client(self, service: str, **_: Any) -> Any:
            return denied if service == "sagemaker" else world.s3

    monkeypatch.setattr("keel.commands.lineage._session", lambda config, endpoint: (Session(), None))
    out = tmp_path / "packs"
    assert main(["lineage", "1", "--out", str(out)]) == 1
    [line] = capsys.readouterr().err.splitlines()
    assert line == (
        "keel lineage: error: DescribeModelPackage: AccessDeniedException (HTTP 400): "
        "not authorized to perform: sagemaker:DescribeModelPackage"
    )
    assert not out.exists()
