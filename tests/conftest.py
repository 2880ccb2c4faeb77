"""Shared fixtures. Tests never reach beyond 127.0.0.1: fake credentials are set for every test."""

from __future__ import annotations

import functools
import gc
import os

import botocore.loaders
import botocore.session
import pytest

# Set before any boto3/sagemaker import: no test may find real credentials or a real region.
for _key, _value in {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
    "SAGEMAKER_VALIDATE_ROLE": "false",
    "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20",
    "JSII_SILENCE_WARNING_UNTESTED_NODE_VERSION": "1",
    "CDK_DISABLE_CLI_TELEMETRY": "true",
}.items():
    os.environ[_key] = _value
for _key in ("AWS_PROFILE", "AWS_ENDPOINT_URL"):
    os.environ.pop(_key, None)


# Every botocore session (the tests' and the code's under test: handlers make a session per event) gets
# the same data loader per AWS_DATA_PATH, so the service models are parsed once per test process instead
# of once per session (~0.1 s per client, ~0.5 s for a test that builds a world of five clients). The
# loader only reads botocore's and boto3's own JSON files; a session already shares its loader among its
# clients, so this is the sharing one long-lived session would have.
_create_loader = botocore.session.create_loader


class _SearchPaths(list[str]):
    """boto3 appends its data folder to the loader's search paths on every Session: keep one copy."""

    def append(self, path: str) -> None:
        if path not in self:
            super().append(path)


@functools.cache
def _shared_loader(search_path_string: str | None = None) -> botocore.loaders.Loader:
    loader = _create_loader(search_path_string)
    loader._search_paths = _SearchPaths(loader.search_paths)  # type: ignore[attr-defined]  # behind .search_paths
    return loader


botocore.session.create_loader = _shared_loader


def pytest_unconfigure(config: pytest.Config) -> None:
    """Collect once, then freeze the survivors. At exit pytest's unraisable-exception check runs five full
    collections and the interpreter one more; each walks the whole heap of a worker (jsii, botocore, moto,
    pandas, sklearn objects: ~1 s a pass under load, ~10 s of the run's wall time after its last test). The
    one collection here still finalizes the session's garbage, so a `__del__` error is reported as before;
    the later passes then only see objects created after it."""
    gc.collect()
    gc.freeze()


@pytest.fixture(autouse=True)
def _fake_aws_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
