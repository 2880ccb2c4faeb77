"""Serving in the local runner (moto server), in-process: the deployer over the simulated endpoint service
with EventBridge played by `handle`, captured traffic written where SageMaker would write it, and the
model version the endpoint serves (whose training baseline the drift check compares against)."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from keel.config import EnvironmentConfig
from keel.monitoring.capture import capture_key, capture_record
from keel.naming import KeyPurpose, endpoint_name, key_alias, partition
from keel.scenario.simulated_endpoints import HEALTHY, CanaryTraffic, SimulatedEndpointService
from keel.serving.deploy import Deployer
from keel.serving.model_package import APPROVAL_DETAIL_TYPE, ModelVersion, SageMakerModelRegistry
from keel.serving.names import capture_bucket, endpoint_capture_uri
from keel.serving.runtime import build_deployer, deployer_settings
from keel.serving.settings import ServingSettings


@dataclass
class LocalServing:
    deployer: Deployer
    service: SimulatedEndpointService

    def handle(self, event: dict[str, Any]) -> list[dict[str, Any]]:
        """Handle one event (e.g. an approval), then deliver the endpoint events it caused until settled."""
        results = [self.deployer.handle(event)]
        while self.service.events:
            results.append(self.deployer.handle(self.service.events.pop(0)))
        return results


def local_serving(
    config: EnvironmentConfig,
    *,
    sagemaker: Any,
    s3: Any,
    cloudwatch: Any,
    autoscaling: Any,
    traffic: Callable[[str | None], CanaryTraffic] = lambda _package: HEALTHY,
    settings: ServingSettings | None = None,
    kms_key_arn: str | None = None,
) -> LocalServing:
    """The deployer as the Lambda runs it, on these (moto) clients; `traffic` decides how a new version's
    canary answers (healthy by default; return `keel.scenario.simulated_endpoints.FAILING` to see a
    rollback)."""
    alias = key_alias(config, KeyPurpose.ARTIFACTS)
    key = kms_key_arn or f"arn:{partition(config)}:kms:{config.region}:{config.account}:{alias}"
    service = SimulatedEndpointService(sagemaker, autoscaling, cloudwatch=cloudwatch, traffic=traffic)
    deployer = build_deployer(
        deployer_settings(config, settings, kms_key_arn=key),
        sagemaker=sagemaker,
        s3=s3,
        cloudwatch=cloudwatch,
        endpoints=service,
    )
    return LocalServing(deployer=deployer, service=service)


def approval_event(sagemaker: Any, package_arn: str) -> dict[str, Any]:
    """The `SageMaker Model Package State Change` event SageMaker sends for a package version (EventBridge
    does not reach the deployer locally: the local runner hands this to `LocalServing.handle`)."""
    package = sagemaker.describe_model_package(ModelPackageName=package_arn)
    _, _, _, region, account, _ = package_arn.split(":", 5)
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": APPROVAL_DETAIL_TYPE,
        "source": "aws.sagemaker",
        "account": account,
        "time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": region,
        "resources": [package_arn],
        "detail": {
            "ModelPackageGroupName": package["ModelPackageGroupName"],
            "ModelPackageVersion": package.get("ModelPackageVersion"),
            "ModelPackageArn": package_arn,
            "ModelApprovalStatus": package.get("ModelApprovalStatus"),
        },
    }


def served_version(config: EnvironmentConfig, *, sagemaker: Any) -> ModelVersion | None:
    """The model version Keel's endpoint serves now (None without an endpoint or a Keel model on it)."""
    service = SimulatedEndpointService(sagemaker, None, cloudwatch=None)
    state = service.describe_endpoint(endpoint_name(config))
    package = service.serving_package(state.config_name) if state else None
    return SageMakerModelRegistry(sagemaker).describe(package) if package else None


def write_capture(
    s3: Any,
    config: EnvironmentConfig,
    rows: Iterable[Sequence[float]],
    *,
    now: datetime | None = None,
    name: str | None = None,
    extra_lines: Sequence[str] = (),
) -> str:
    """Captured requests (one CSV row of model features each), as SageMaker writes them for the endpoint."""
    now = now or datetime.now(UTC)
    lines = [
        capture_record(row, inference_id=uuid.uuid4().hex, event_id=str(uuid.uuid4()), time=now)
        for row in rows
    ]
    bucket = capture_bucket(config)
    prefix = endpoint_capture_uri(config).removeprefix(f"s3://{bucket}/")
    key = capture_key(prefix, now, name or uuid.uuid4().hex)
    s3.put_object(Bucket=bucket, Key=key, Body="\n".join([*lines, *extra_lines]).encode())
    return f"s3://{bucket}/{key}"
