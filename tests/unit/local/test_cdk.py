"""The CDK CLI invocation against the local server (keel.local.cdk)."""

from __future__ import annotations

from pathlib import Path

import pytest

from keel.local.cdk import CDK_BIN, CdkCli


def test_command_and_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("AWS_PROFILE", "prod")
    cli = CdkCli(
        "http://localhost:4566", "123456789012", "us-east-1", tmp_path / "out", context={"env": "local"}
    )
    command = cli.command("deploy", "--all")
    assert command[0] == str(CDK_BIN)
    assert command[1:3] == ["deploy", "--all"]
    assert "--no-notices" in command
    assert command[command.index("--output") + 1] == str(tmp_path / "out")
    assert command[command.index("--context") + 1] == "env=local"
    environment = cli.environment()
    assert environment["AWS_ENDPOINT_URL"] == "http://localhost:4566"
    assert environment["CDK_DISABLE_CLI_TELEMETRY"] == "true"
    assert environment["JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION"] == "20"
    assert "AWS_PROFILE" not in environment
