"""The pinned CDK CLI (node_modules/.bin/cdk) pointed at the local server.

Every call runs with the local endpoint, fake credentials, telemetry and notices off, and its own output
directory, so that local synth output never mixes with another environment's (`cdk.out.local`).
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from keel.config import PROJECT_ROOT
from keel.local.envfile import UNSET, aws_environment

CDK_BIN = PROJECT_ROOT / "node_modules" / ".bin" / "cdk"
CDK_ENV = {
    "CDK_DISABLE_CLI_TELEMETRY": "true",
    "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20",
    "JSII_SILENCE_WARNING_UNTESTED_NODE_VERSION": "1",
    "NODE_NO_WARNINGS": "1",  # the SDK's Node-version warning on every call
}
BOOTSTRAP_STACK = "CDKToolkit"


class CdkError(RuntimeError):
    pass


@dataclass(frozen=True)
class CdkCli:
    endpoint_url: str
    account_id: str
    region: str
    output_dir: Path
    app_dir: Path = PROJECT_ROOT
    app: str | None = None  # default: the "app" of app_dir/cdk.json
    context: dict[str, str] = field(default_factory=dict)

    def environment(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if k not in UNSET}
        return env | CDK_ENV | aws_environment(self.endpoint_url, self.account_id, self.region)

    def command(self, *args: str) -> list[str]:
        command = [str(CDK_BIN), *args, "--no-notices", "--output", str(self.output_dir)]
        if self.app:
            command += ["--app", self.app]
        for key, value in self.context.items():
            command += ["--context", f"{key}={value}"]
        return command

    def run(self, *args: str, capture: bool = False) -> subprocess.CompletedProcess[str]:
        if not CDK_BIN.exists():
            raise CdkError(f"{CDK_BIN} not found: run `npm ci` (or `make install`) first")
        result = subprocess.run(
            self.command(*args),
            cwd=self.app_dir,
            env=self.environment(),
            text=True,
            capture_output=capture,
            check=False,
        )
        if result.returncode != 0:
            detail = f":\n{result.stdout}{result.stderr}" if capture else ""
            raise CdkError(f"`cdk {' '.join(args)}` failed with exit code {result.returncode}{detail}")
        return result

    def bootstrap(self, *, capture: bool = False) -> subprocess.CompletedProcess[str]:
        return self.run("bootstrap", f"aws://{self.account_id}/{self.region}", capture=capture)

    def deploy(
        self, stacks: Sequence[str] = (), *, capture: bool = False
    ) -> subprocess.CompletedProcess[str]:
        selection = list(stacks) or ["--all"]
        return self.run("deploy", *selection, "--require-approval", "never", capture=capture)

    def diff(self, stacks: Sequence[str] = (), *, capture: bool = False) -> subprocess.CompletedProcess[str]:
        return self.run("diff", *(list(stacks) or ["--all"]), capture=capture)

    def destroy(
        self, stacks: Sequence[str] = (), *, capture: bool = False
    ) -> subprocess.CompletedProcess[str]:
        return self.run("destroy", *(list(stacks) or ["--all"]), "--force", capture=capture)
