"""The SageMaker container contract, in one place: default paths, environment variables, host identity.

Every path a step uses is an argument whose default comes from here, so a local runner can map them to
local folders: by arguments, by the SM_* variables, or all at once with $KEEL_CONTAINER_ROOT.
(Named `container`, not `io`: running `python pipeline_steps/x.py` puts this directory on sys.path, where
a module called `io` would be a trap.)
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

# A local runner stands a folder in for the container's "/" and names it here; unset in SageMaker.
CONTAINER_ROOT_ENV = "KEEL_CONTAINER_ROOT"

PROCESSING_INPUT = "/opt/ml/processing/input"
PROCESSING_OUTPUT = "/opt/ml/processing/output"
RESOURCE_CONFIG = "/opt/ml/config/resourceconfig.json"  # processing jobs: current_host and hosts
HYPERPARAMETERS_JSON = "/opt/ml/input/config/hyperparameters.json"  # training jobs
FAILURE_FILE = "/opt/ml/output/failure"  # training jobs: the failure description SageMaker reports
MESSAGE_FILE = "/opt/ml/output/message"  # processing jobs: SageMaker reports its first KB as ExitMessage
MESSAGE_LIMIT = 1024

# Training-job environment (set by SageMaker / the training toolkit) and their documented defaults.
SM_CHANNEL_TRAIN = ("SM_CHANNEL_TRAIN", "/opt/ml/input/data/train")
SM_CHANNEL_VALIDATION = ("SM_CHANNEL_VALIDATION", "/opt/ml/input/data/validation")
SM_MODEL_DIR = ("SM_MODEL_DIR", "/opt/ml/model")
SM_OUTPUT_DATA_DIR = ("SM_OUTPUT_DATA_DIR", "/opt/ml/output/data")

# Exit codes shared by the steps (a failed job is what stops a SageMaker pipeline).
EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_DRIFT = 0, 1, 2, 3


def _environ(environ: Mapping[str, str] | None) -> Mapping[str, str]:
    return os.environ if environ is None else environ


def container_path(path: str, environ: Mapping[str, str] | None = None) -> Path:
    """A container path such as /opt/ml/model, below $KEEL_CONTAINER_ROOT when a local runner sets it."""
    root = _environ(environ).get(CONTAINER_ROOT_ENV)
    return Path(root) / path.lstrip("/") if root else Path(path)


def processing_input(name: str) -> Path:
    return container_path(f"{PROCESSING_INPUT}/{name}")


def processing_output(name: str) -> Path:
    return container_path(f"{PROCESSING_OUTPUT}/{name}")


def env_path(variable: tuple[str, str], environ: Mapping[str, str] | None = None) -> Path:
    """A training path from its SM_* variable, else its default location in the container."""
    name, default = variable
    value = _environ(environ).get(name)
    return Path(value) if value else container_path(default, environ)


class ContainerFileError(ValueError):
    """A file SageMaker writes into the container exists but cannot be used; the message names the file and
    the problem."""


class HyperparametersError(ContainerFileError):
    """hyperparameters.json exists but cannot be used."""


def _json_object(path: Path, what: str) -> dict[str, Any] | None:
    """The JSON object in `path`; None if there is no such file (outside SageMaker)."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as error:
        raise ContainerFileError(f"{path}: cannot be read ({error})") from None
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        raise ContainerFileError(f"{path}: not valid JSON ({error})") from None
    if not isinstance(document, dict):
        raise ContainerFileError(f"{path}: expected a JSON object of {what}, got {type(document).__name__}")
    return document


def processing_hosts(path: Path | None = None) -> tuple[str | None, list[str]]:
    """(current host, all hosts) of a processing job; (None, []) outside SageMaker (no resource config).
    A resource config that is not a JSON object raises ContainerFileError."""
    config = _json_object(path or container_path(RESOURCE_CONFIG), "hosts")
    if config is None:
        return None, []
    hosts = [str(h) for h in config.get("hosts", [])]
    current = config.get("current_host")
    return (str(current) if current else None), hosts


def read_hyperparameters(path: Path | None = None) -> dict[str, str]:
    """SageMaker's hyperparameters.json (all values are strings; JSON-encoded ones are decoded).

    No file means no hyperparameters (outside a training job); a file that cannot be read or is not a JSON
    object raises HyperparametersError: training with defaults instead of the requested values would hide it.
    """
    try:
        document = _json_object(path or container_path(HYPERPARAMETERS_JSON), "hyperparameters")
    except ContainerFileError as error:
        raise HyperparametersError(str(error)) from None
    decoded = {}
    for key, value in (document or {}).items():
        if isinstance(value, str):
            # A plain string ("balanced") is not JSON and stays as it is; '"4"' or '4' are decoded.
            with contextlib.suppress(json.JSONDecodeError):
                value = json.loads(value)
        decoded[str(key)] = "" if value is None else str(value)
    return decoded


def write_failure(message: str, environ: Mapping[str, str] | None = None) -> Path | None:
    """SageMaker's failure file: a failed training job reports its first 1024 characters as FailureReason.

    Written only inside a container (SageMaker creates /opt/ml/output; the local runner creates it below
    $KEEL_CONTAINER_ROOT); returns the path written, or None outside one.
    """
    path = container_path(FAILURE_FILE, environ)
    if not path.parent.is_dir():
        return None
    path.write_text(message + "\n", encoding="utf-8")
    return path


def write_exit_message(message: str, environ: Mapping[str, str] | None = None) -> Path | None:
    """A processing job's exit message (DescribeProcessingJob ExitMessage: its first KB), so that a failed
    job says why in the service and not only in its logs. Longer messages are cut with a pointer to the full
    text; written only inside a container, like `write_failure`."""
    path = container_path(MESSAGE_FILE, environ)
    if not path.parent.is_dir():
        return None
    encoded = message.encode("utf-8")
    if len(encoded) > MESSAGE_LIMIT:
        tail = " … (the full list is in the step's summary.json)".encode()
        encoded = encoded[: MESSAGE_LIMIT - len(tail)].decode("utf-8", "ignore").encode() + tail
    path.write_bytes(encoded)
    return path


def report_failure(step: str, message: str, environ: Mapping[str, str] | None = None) -> None:
    """A step's failure on stderr (the job log) and in the failure file (the job's FailureReason)."""
    print(f"{step}: {message}", file=sys.stderr)
    write_failure(f"{step}: {message}", environ)


def hyperparameter_argv(hyperparameters: Mapping[str, str]) -> list[str]:
    """`{"n_estimators": "300"}` -> `["--n-estimators", "300"]`, to be parsed before the real argv."""
    argv: list[str] = []
    for key, value in hyperparameters.items():
        argv += [f"--{key.replace('_', '-')}", value]
    return argv


def write_json(path: Path, document: Any) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, indent=2, allow_nan=False) + "\n", encoding="utf-8")
    return path


def configure_logging() -> logging.Logger:
    """Keel's step log on stderr (CloudWatch keeps it; stdout stays free for summaries).

    Only Keel's logger is set to INFO: Great Expectations logs a line per internal registration at INFO.
    """
    logger = logging.getLogger("keel.step")
    if not logger.handlers:
        handler = _StderrHandler()
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
        logger.propagate = False
    return logger


class _StderrHandler(logging.StreamHandler):
    """Writes to whatever sys.stderr is at the time (a test runner may swap it between calls)."""

    @property
    def stream(self) -> Any:
        return sys.stderr

    @stream.setter
    def stream(self, _value: Any) -> None:
        pass
