"""`keel local up --no-deploy | status | down` and the launcher's process handling, against real servers
started in a temporary state directory (never the project's `.keel/`)."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import pytest

from keel.cli import main
from keel.config import load_environment
from keel.local import process

pytestmark = pytest.mark.integration


@pytest.fixture
def state_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv(process.STATE_DIR_ENV, str(tmp_path))
    return tmp_path


def test_up_reuses_a_healthy_server_and_down_stops_it(
    state_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    paths = process.StatePaths(state_dir)
    try:
        assert main(["local", "up", "--no-deploy"]) == 0
        first = process.status(paths)
        assert first is not None
        assert first.account_id == load_environment("local").account
        assert "local AWS started" in capsys.readouterr().out

        assert main(["local", "up", "--no-deploy"]) == 0
        assert "local AWS reused" in capsys.readouterr().out
        assert process.status(paths) == first  # same pid, same port

        # The env file points the AWS SDK (and CLI) at the server.
        who_am_i = "import boto3; print(boto3.client('sts').get_caller_identity()['Account'])"
        script = f'source {paths.env_file} && {sys.executable} -c "{who_am_i}"'
        account = subprocess.run(["bash", "-c", script], capture_output=True, text=True, check=True)
        assert account.stdout.strip() == first.account_id

        assert main(["local", "status"]) == 0
        out = capsys.readouterr().out
        assert "local AWS running" in out and "(no stacks deployed)" in out
    finally:
        assert main(["local", "down"]) == 0
    assert "local AWS stopped" in capsys.readouterr().out
    assert not process.pid_alive(first.pid)
    assert main(["local", "status"]) == 3
    assert not paths.pid_file.exists() and not paths.env_file.exists()


def test_a_stale_record_is_replaced(state_dir: Path) -> None:
    paths = process.StatePaths(state_dir)
    paths.pid_file.write_text("999999\n")  # a dead pid and no info: stale
    try:
        info, started = process.start(paths, account_id="123456789012", region="us-east-1")
        assert started and info.pid != 999999
        assert process.read_pid(paths) == info.pid
    finally:
        process.stop(paths)


def test_a_busy_port_is_refused_before_starting(state_dir: Path) -> None:
    paths = process.StatePaths(state_dir)
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        with pytest.raises(process.LocalServerError, match="in use"):
            process.start(paths, account_id="123456789012", region="us-east-1", port=busy.getsockname()[1])


def test_a_server_that_exits_reports_its_log(state_dir: Path) -> None:
    paths = process.StatePaths(state_dir)
    with pytest.raises(process.LocalServerError, match="invalid provider") as raised:
        process.start(paths, account_id="123456789012", region="us-east-1", providers=["not-a-spec"])
    assert "exited" in str(raised.value)
    assert not paths.pid_file.exists()


def test_fresh_keeps_the_endpoint_of_the_env_file(
    state_dir: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """`make local` twice (`keel local up --fresh`): shells that sourced local.env keep working."""
    paths = process.StatePaths(state_dir)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    try:
        assert main(["local", "up", "--no-deploy"]) == 0
        first = process.status(paths)
        assert first is not None
        sourced = paths.env_file.read_text()
        capsys.readouterr()

        assert main(["local", "up", "--no-deploy", "--fresh"]) == 0
        second = process.status(paths)
        assert second is not None and second.pid != first.pid  # a new, empty local AWS ...
        assert second.port == first.port  # ... on the same endpoint
        env_text = paths.env_file.read_text()
        assert f"AWS_ENDPOINT_URL={first.endpoint_url}" in env_text
        assert env_text == sourced.replace(f"pid {first.pid}", f"pid {second.pid}")
        assert "endpoint changed" not in capsys.readouterr().out

        assert main(["local", "down"]) == 0
        with socket.socket() as busy:  # the port is taken while the server is down: a new port, and a hint
            busy.bind(("127.0.0.1", first.port))
            busy.listen()
            monkeypatch.setenv("AWS_ENDPOINT_URL", first.endpoint_url)
            assert main(["local", "up", "--no-deploy"]) == 0
        third = process.status(paths)
        assert third is not None and third.port != first.port
        out = capsys.readouterr().out
        assert f"endpoint changed (port {first.port} → {third.port})" in out
        assert f"source {paths.env_file}" in out
    finally:
        main(["local", "down"])
