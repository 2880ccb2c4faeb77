"""`.keel/local.env`: after `source`, AWS clients point at the local server with fake credentials."""

from __future__ import annotations

import subprocess
from pathlib import Path

from keel.local import envfile


def test_sourcing_the_env_file_sets_the_local_environment(tmp_path: Path) -> None:
    environment = envfile.aws_environment("http://localhost:4566", "123456789012", "us-east-1")
    path = envfile.write(tmp_path / "local.env", environment, comment="test")
    script = f"export AWS_PROFILE=prod; source {path}; env"
    result = subprocess.run(["bash", "-c", script], capture_output=True, text=True, check=True)
    exported = dict(line.split("=", 1) for line in result.stdout.splitlines() if "=" in line)
    for key, value in environment.items():
        assert exported[key] == value
    assert "AWS_PROFILE" not in exported  # a profile would override the fake credentials
    assert exported["AWS_ENDPOINT_URL"] == "http://localhost:4566"
