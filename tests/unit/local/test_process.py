"""Process management of the local AWS server: ports, pid files, stale state (no server started here)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from keel.local import process


@pytest.fixture
def paths(tmp_path: Path) -> process.StatePaths:
    return process.StatePaths(tmp_path)


def _record(paths: process.StatePaths, pid: int, port: int = 1) -> None:
    paths.pid_file.write_text(f"{pid}\n")
    info = process.ServerInfo(pid, "127.0.0.1", port, "123456789012", "us-east-1", str(paths.log_file))
    paths.info_file.write_text(json.dumps(info.__dict__))
    paths.env_file.write_text("export AWS_ENDPOINT_URL=http://localhost:1\n")


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_free_port_can_be_bound() -> None:
    port = process.free_port()
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", port))


@pytest.mark.parametrize("content", ["", "abc", "-5", "0"])
def test_an_unreadable_pid_file_means_no_pid(paths: process.StatePaths, content: str) -> None:
    paths.pid_file.write_text(content)
    assert process.read_pid(paths) is None


def test_nothing_recorded_means_not_running(paths: process.StatePaths) -> None:
    assert process.status(paths) is None
    assert process.stop(paths) is False


def test_a_stale_pid_file_is_not_running_and_is_cleaned_up(paths: process.StatePaths) -> None:
    _record(paths, _dead_pid())
    assert process.status(paths) is None
    assert process.stop(paths) is False
    assert not paths.pid_file.exists() and not paths.info_file.exists() and not paths.env_file.exists()


def test_a_live_process_that_is_not_the_launcher_is_never_signalled(paths: process.StatePaths) -> None:
    other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        _record(paths, other.pid)  # e.g. the pid was reused after a reboot
        assert process.status(paths) is None  # no health answer from it
        assert process.stop(paths) is False
        assert other.poll() is None  # still running
        assert not paths.pid_file.exists()
    finally:
        other.kill()
        other.wait()


def test_pid_alive_and_is_launcher() -> None:
    assert process.pid_alive(os.getpid())
    assert not process.pid_alive(_dead_pid())
    assert not process.is_launcher(os.getpid())  # pytest is not `python -m keel.local.server`


def test_health_of_a_closed_port_is_none() -> None:
    assert process.health(process.free_port(), timeout=0.2) is None


def test_endpoint_uses_localhost(paths: process.StatePaths) -> None:
    info = process.ServerInfo(1, "127.0.0.1", 4566, "123456789012", "us-east-1", "log")
    assert info.endpoint_url == "http://localhost:4566"  # moto's CloudFormation resolves template URLs for it


def test_state_directory_can_be_overridden(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv(process.STATE_DIR_ENV, str(tmp_path))
    assert process.default_paths().pid_file == tmp_path / "local.pid"
    monkeypatch.delenv(process.STATE_DIR_ENV)
    assert process.default_paths().root == process.DEFAULT_STATE_DIR


def test_the_last_port_survives_stop(paths: process.StatePaths) -> None:
    assert process.last_port(paths) is None
    paths.port_file.write_text("4566\n")
    _record(paths, _dead_pid())
    process.stop(paths)
    assert not paths.info_file.exists()
    assert process.last_port(paths) == 4566  # the next server takes it again when it is free


@pytest.mark.parametrize("content", ["", "x", "0", "70000"])
def test_an_unreadable_port_file_means_no_last_port(paths: process.StatePaths, content: str) -> None:
    paths.port_file.write_text(content)
    assert process.last_port(paths) is None


def test_endpoint_notice(monkeypatch: pytest.MonkeyPatch) -> None:
    from keel.commands.local import endpoint_notice

    server = process.ServerInfo(1, "127.0.0.1", 4567, "123456789012", "us-east-1", "log")
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    assert endpoint_notice(None, server, ".keel/local.env") is None
    assert endpoint_notice(4567, server, ".keel/local.env") is None
    assert "4566 → 4567" in str(endpoint_notice(4566, server, ".keel/local.env"))
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://localhost:4000")
    assert "source .keel/local.env" in str(endpoint_notice(4567, server, ".keel/local.env"))
    monkeypatch.setenv("AWS_ENDPOINT_URL", "https://s3.example.com")  # not ours: no opinion
    assert endpoint_notice(4567, server, ".keel/local.env") is None
