"""The deployer's Lambda handler in-process against moto, with the environment the stack gives it; and the
Lambda bundles import without numpy, pandas or PyYAML (not bundled)."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass

import pytest

from keel.naming import endpoint_name
from keel.serving.runtime import KMS_KEY_VARIABLE, deployer_settings
from tests.unit.monitoring.world import World
from tests.unit.serving.test_deploy_flow import approval


@dataclass
class Context:
    function_name: str = "keel-local-model-deployer"
    memory_limit_in_mb: int = 512
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:keel-local-model-deployer"
    aws_request_id: str = "request-1"


def test_handler_creates_the_endpoint_on_approval(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    environ = deployer_settings(world.config).to_environ() | {
        KMS_KEY_VARIABLE: "arn:aws:kms:us-east-1:1:key/k"
    }
    for name, value in {**environ, "POWERTOOLS_TRACE_DISABLED": "1", "POWERTOOLS_SERVICE_NAME": "t"}.items():
        monkeypatch.setenv(name, value)
    from lambdas.model_deployer import handler

    monkeypatch.setattr(handler, "_deployer", [])
    package = world.register_version("exec-1")
    result = handler.lambda_handler(approval(world, package), Context())
    assert result["status"] == "started"
    endpoint = world.sagemaker.describe_endpoint(EndpointName=endpoint_name(world.config))
    assert endpoint["EndpointStatus"] == "InService"


@pytest.mark.parametrize("module", ["lambdas.model_deployer.handler", "lambdas.drift_publisher.handler"])
def test_lambda_handlers_import_without_heavy_packages(module: str) -> None:
    heavy = ("numpy", "pandas", "scipy", "yaml", "sagemaker")
    blocked = f"import sys\nfor name in {heavy!r}:\n    sys.modules[name] = None\n"
    result = subprocess.run(
        [sys.executable, "-c", f"{blocked}import {module}"], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr[-2000:]
