"""Start, find and stop the local AWS server process (`python -m keel.local.server`).

State lives in a directory (`.keel/` of the project by default): `local.pid` (the pid), `local.json`
(endpoint, account, region), `local.log` (server output), `local.port` (the last port, kept when the
server stops). A running server is reused only if its pid is alive, is this launcher, and answers the
health check with that pid; anything else is stale and is cleaned up (a live stale server of ours is
stopped first) before a new one starts. A new server takes the last port again when it is free, so the
endpoint that a shell got from `source .keel/local.env` stays valid across `keel local up --fresh`.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from keel.config import PROJECT_ROOT
from keel.local.server import HEALTH_PATH, code_fingerprint

SERVER_MODULE = "keel.local.server"
DEFAULT_STATE_DIR = PROJECT_ROOT / ".keel"
START_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 10.0


class LocalServerError(RuntimeError):
    """The local server could not be started or stopped; the message says why (with the log tail)."""


@dataclass(frozen=True)
class StatePaths:
    root: Path

    @property
    def pid_file(self) -> Path:
        return self.root / "local.pid"

    @property
    def info_file(self) -> Path:
        return self.root / "local.json"

    @property
    def log_file(self) -> Path:
        return self.root / "local.log"

    @property
    def env_file(self) -> Path:
        return self.root / "local.env"

    @property
    def port_file(self) -> Path:
        return self.root / "local.port"


@dataclass(frozen=True)
class ServerInfo:
    pid: int
    host: str
    port: int
    account_id: str
    region: str
    log_path: str

    @property
    def endpoint_url(self) -> str:
        # `localhost`, not the bound IP: moto's CloudFormation resolves template URLs for that name.
        return f"http://localhost:{self.port}"


STATE_DIR_ENV = "KEEL_LOCAL_STATE_DIR"  # another state directory, e.g. for tests or a second server


def default_paths() -> StatePaths:
    return StatePaths(Path(os.environ.get(STATE_DIR_ENV) or DEFAULT_STATE_DIR))


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def _port_free(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        # As the server binds (werkzeug sets SO_REUSEADDR): connections of a just-stopped server in
        # TIME_WAIT do not make the port busy, a listening socket does.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def read_pid(paths: StatePaths) -> int | None:
    try:
        pid = int(paths.pid_file.read_text(encoding="utf-8").strip())
    except (OSError, ValueError):
        return None
    return pid if pid > 0 else None


def last_port(paths: StatePaths) -> int | None:
    """The port of the last server started in `paths` (running or not)."""
    try:
        port = int(paths.port_file.read_text(encoding="utf-8").strip())
    except (OSError, ValueError):
        return None
    return port if 0 < port < 65536 else None


def read_info(paths: StatePaths) -> ServerInfo | None:
    try:
        return ServerInfo(**json.loads(paths.info_file.read_text(encoding="utf-8")))
    except (OSError, ValueError, TypeError):
        return None


def pid_alive(pid: int) -> bool:
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)  # reap it if it is our exited child
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    stat = Path(f"/proc/{pid}/stat")
    with contextlib.suppress(OSError, IndexError):
        return stat.read_text().rsplit(")", 1)[1].split()[0] != "Z"  # a zombie is not alive
    return True


def is_launcher(pid: int) -> bool:
    """Is `pid` this launcher? Guards against signalling an unrelated process that reused the pid."""
    cmdline = Path(f"/proc/{pid}/cmdline")
    try:
        return SERVER_MODULE.encode() in cmdline.read_bytes()
    except OSError:
        return not Path("/proc").is_dir()  # no procfs: cannot tell, trust the pid file


def health(port: int, host: str = "127.0.0.1", timeout: float = 1.0) -> dict[str, Any] | None:
    try:
        with urllib.request.urlopen(f"http://{host}:{port}{HEALTH_PATH}", timeout=timeout) as response:
            document = json.loads(response.read())
    except (OSError, ValueError, urllib.error.URLError):
        return None
    return document if isinstance(document, dict) and document.get("service") == "keel-local-aws" else None


def _running(paths: StatePaths) -> tuple[ServerInfo, dict[str, Any]] | None:
    pid, info = read_pid(paths), read_info(paths)
    if pid is None or info is None or info.pid != pid or not pid_alive(pid):
        return None
    answer = health(info.port, info.host)
    return (info, answer) if answer is not None and answer.get("pid") == pid else None


def status(paths: StatePaths) -> ServerInfo | None:
    """The running server of `paths`, or None if there is none (or only a stale record)."""
    running = _running(paths)
    return running[0] if running else None


def _log_tail(paths: StatePaths, lines: int = 25) -> str:
    try:
        return "\n".join(paths.log_file.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def _remove_state(paths: StatePaths) -> None:
    for path in (paths.pid_file, paths.info_file, paths.env_file):
        path.unlink(missing_ok=True)


def _wait_until_gone(pid: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not pid_alive(pid):
            return True
        time.sleep(0.05)
    return not pid_alive(pid)


def stop(paths: StatePaths, timeout: float = STOP_TIMEOUT_S) -> bool:
    """Stop the server recorded in `paths` (if it is alive and ours) and remove its state files.

    Returns whether a process was stopped.
    """
    pid = read_pid(paths)
    stopped = False
    if pid is not None and pid_alive(pid) and is_launcher(pid):
        os.kill(pid, signal.SIGTERM)
        if not _wait_until_gone(pid, timeout):
            os.kill(pid, signal.SIGKILL)
            if not _wait_until_gone(pid, timeout):
                raise LocalServerError(f"local AWS server (pid {pid}) does not stop")
        stopped = True
    _remove_state(paths)
    return stopped


def start(
    paths: StatePaths,
    *,
    account_id: str,
    region: str,
    host: str = "127.0.0.1",
    port: int | None = None,
    providers: Sequence[str] = (),
    timeout: float = START_TIMEOUT_S,
) -> tuple[ServerInfo, bool]:
    """Start a server, or reuse the healthy one already recorded in `paths` (same account, region and
    code of keel.local).

    Returns the server and whether it was started now (False: reused).
    """
    running = _running(paths)
    if running is not None:
        current, current_health = running
        expected = (account_id, region, code_fingerprint())
        if (current.account_id, current.region, current_health.get("code")) == expected:
            return current, False
    stop(paths)  # stale record, dead or foreign process, other account or code: start afresh
    paths.root.mkdir(parents=True, exist_ok=True)
    if port and not _port_free(host, port):
        raise LocalServerError(f"port {port} on {host} is in use: choose another or omit it for a free one")
    if not port:
        previous = last_port(paths)
        port = previous if previous and _port_free(host, previous) else free_port(host)
    command = [sys.executable, "-m", SERVER_MODULE, "--host", host, "--port", str(port)]
    command += ["--account", account_id, "--region", region]
    for provider in providers:
        command += ["--provider", provider]
    environment = {k: v for k, v in os.environ.items() if not k.startswith("AWS_ENDPOINT_URL")}
    with paths.log_file.open("wb") as log:  # one log per server: the previous one's state is gone too
        process = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=PROJECT_ROOT,
            env=environment,
            start_new_session=True,  # outlives `keel local up`; not hit by the terminal's Ctrl-C
        )
    paths.pid_file.write_text(f"{process.pid}\n", encoding="utf-8")
    info = ServerInfo(process.pid, host, port, account_id, region, str(paths.log_file))
    deadline = time.monotonic() + timeout
    while True:
        if process.poll() is not None:
            _remove_state(paths)
            raise LocalServerError(f"local AWS server exited with {process.returncode}:\n{_log_tail(paths)}")
        started = health(port, host)
        if started is not None and started.get("pid") == process.pid:
            break
        if time.monotonic() > deadline:
            stop(paths)
            raise LocalServerError(f"local AWS server not healthy after {timeout:.0f} s:\n{_log_tail(paths)}")
        time.sleep(0.1)
    paths.info_file.write_text(json.dumps(asdict(info), indent=2) + "\n", encoding="utf-8")
    paths.port_file.write_text(f"{port}\n", encoding="utf-8")
    return info, True
