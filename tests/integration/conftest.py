"""Integration fixtures: ONE local AWS server (moto + Keel's extensions, `keel.local`) per test session.

`moto_server` starts it on a free port (state and log in a temporary directory, never the project's
`.keel/`) and stops it at the end of the session. Every test that uses it runs with the local endpoint
and fake credentials in its environment (restored afterwards), so boto3 and the AWS CLI reach the
local server only.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest

from keel.config import load_environment
from keel.local import envfile, process

TEST_PROVIDERS_FILE = Path(__file__).with_name("local_providers.py")
TEST_PROVIDERS = (
    f"Custom::KeelTestMacieJob={TEST_PROVIDERS_FILE}:on_event@macie2",
    f"Custom::KeelTestFailing={TEST_PROVIDERS_FILE}:on_event_failing",
)


@dataclass(frozen=True)
class MotoServer:
    endpoint_url: str
    account_id: str
    region: str
    log_path: Path
    pid: int

    @property
    def environment(self) -> dict[str, str]:
        return envfile.aws_environment(self.endpoint_url, self.account_id, self.region)

    def client(self, service: str) -> Any:
        return boto3.client(
            service,  # type: ignore[call-overload]
            endpoint_url=self.endpoint_url,
            region_name=self.region,
            aws_access_key_id=envfile.FAKE_ACCESS_KEY_ID,
            aws_secret_access_key=envfile.FAKE_SECRET_ACCESS_KEY,
        )


@pytest.fixture(scope="session")
def moto_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MotoServer]:
    config = load_environment("local")
    paths = process.StatePaths(tmp_path_factory.mktemp("local-aws"))
    info, _ = process.start(paths, account_id=config.account, region=config.region, providers=TEST_PROVIDERS)
    try:
        yield MotoServer(info.endpoint_url, info.account_id, info.region, Path(info.log_path), info.pid)
    finally:
        process.stop(paths)


@pytest.fixture(autouse=True)
def _local_aws_environment(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests using `moto_server` see the local endpoint and fake credentials in their environment."""
    if "moto_server" not in request.fixturenames:
        return
    server: MotoServer = request.getfixturevalue("moto_server")
    for key in envfile.UNSET:
        monkeypatch.delenv(key, raising=False)
    for key, value in server.environment.items():
        monkeypatch.setenv(key, value)
