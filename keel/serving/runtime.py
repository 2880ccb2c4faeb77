"""Wire the deployer: its settings (derived from the environment config at synth time, passed to the Lambda as
one JSON environment variable), and a Deployer over boto3 clients — or over the simulated endpoint service
for moto (the local runner and tests)."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from functools import cache
from typing import TYPE_CHECKING, Any, Self

from pydantic import BaseModel, ConfigDict, Field

from keel.monitoring.names import rollback_alarm_names
from keel.naming import BucketPurpose, bucket_name, endpoint_name, model_package_group_name, partition
from keel.serving.deploy import CloudWatchAlarmStates, Deployer, DeployerConfig
from keel.serving.endpoint_service import EndpointService, SageMakerEndpointService
from keel.serving.model_package import SageMakerModelRegistry, baseline_prefix
from keel.serving.names import capture_uri, resource_prefix
from keel.serving.records import S3DeploymentStore
from keel.serving.requests import ServingTargets
from keel.serving.settings import ServingSettings, serving_settings

if TYPE_CHECKING:  # CDK-side config: annotations only, so no Lambda imports it
    from botocore.config import Config

    from keel.config import EnvironmentConfig

ENVIRONMENT_VARIABLE = "KEEL_DEPLOYER_SETTINGS"


# The deployer's clients: throttles and 5xx answers retried with backoff (standard mode), then raised, so the
# event is retried by Lambda and finally kept in the dead-letter queue. Repeats are safe: see
# SageMakerEndpointService._already_requested; resource names are unique per deployment.
@cache
def retries() -> Config:
    """The deployer's client config: standard-mode retries."""
    # Built with the clients: botocore.config pulls in most of botocore (~0.1 s) at the handler's import.
    from botocore.config import Config

    return Config(retries={"mode": "standard", "total_max_attempts": 5})


def __getattr__(name: str) -> Any:
    if name == "RETRIES":  # the former constant, for existing callers
        return retries()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


KMS_KEY_VARIABLE = "KEEL_ARTIFACTS_KEY_ARN"


def endpoint_role_name(config: EnvironmentConfig) -> str:
    """The SageMaker execution role of Keel's models (deterministic: the deployer passes it by ARN)."""
    return f"{config.prefix}-endpoint"


class DeployerSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    environment: str
    endpoint_name: str
    model_package_group: str
    execution_role_arn: str
    capture_uri: str
    reports_bucket: str
    baseline_prefix: str
    name_prefix: str
    rollback_alarms: tuple[str, ...] = Field(min_length=1)
    subnet_ids: tuple[str, ...] = ()
    security_group_ids: tuple[str, ...] = ()
    tags: dict[str, str] = Field(default_factory=dict)
    serving: ServingSettings
    kms_key_arn: str = ""

    def to_environ(self) -> dict[str, str]:
        return {ENVIRONMENT_VARIABLE: self.model_dump_json(exclude={"kms_key_arn"})}

    @classmethod
    def from_environ(cls, environ: Mapping[str, str] | None = None) -> Self:
        environ = os.environ if environ is None else environ
        document = json.loads(environ[ENVIRONMENT_VARIABLE])
        return cls.model_validate(document | {"kms_key_arn": environ.get(KMS_KEY_VARIABLE, "")})

    def deployer_config(self) -> DeployerConfig:
        return DeployerConfig(
            group_name=self.model_package_group,
            settings=self.serving,
            baseline_prefix=self.baseline_prefix,
            targets=ServingTargets(
                endpoint_name=self.endpoint_name,
                execution_role_arn=self.execution_role_arn,
                kms_key_id=self.kms_key_arn,
                capture_uri=self.capture_uri,
                rollback_alarms=self.rollback_alarms,
                name_prefix=self.name_prefix,
                environment=self.environment,
                subnet_ids=self.subnet_ids,
                security_group_ids=self.security_group_ids,
                tags=self.tags,
            ),
        )


def deployer_settings(
    config: EnvironmentConfig, serving: ServingSettings | None = None, *, kms_key_arn: str = ""
) -> DeployerSettings:
    vpc = config.security.vpc
    return DeployerSettings(
        environment=config.name,
        endpoint_name=endpoint_name(config),
        model_package_group=model_package_group_name(config),
        execution_role_arn=f"arn:{partition(config)}:iam::{config.account}:role/{endpoint_role_name(config)}",
        capture_uri=capture_uri(config),
        reports_bucket=bucket_name(config, BucketPurpose.REPORTS),
        baseline_prefix=baseline_prefix(config),
        name_prefix=resource_prefix(config),
        rollback_alarms=rollback_alarm_names(config),
        subnet_ids=vpc.subnet_ids if vpc else (),
        security_group_ids=vpc.security_group_ids if vpc else (),
        tags=config.tags,
        serving=serving or serving_settings(config),
        kms_key_arn=kms_key_arn,
    )


def utc_now() -> datetime:
    return datetime.now(UTC)


def build_deployer(
    settings: DeployerSettings,
    *,
    sagemaker: Any,
    s3: Any,
    cloudwatch: Any,
    endpoints: EndpointService | None = None,
    autoscaling: Any = None,
    clock: Callable[[], datetime] = utc_now,
) -> Deployer:
    """A Deployer on these clients; `endpoints` defaults to the real SageMaker endpoint service."""
    return Deployer(
        config=settings.deployer_config(),
        endpoints=endpoints or SageMakerEndpointService(sagemaker, autoscaling),
        registry=SageMakerModelRegistry(sagemaker),
        store=S3DeploymentStore(
            s3, settings.reports_bucket, kms_key_id=settings.kms_key_arn or None, clock=clock
        ),
        alarms=CloudWatchAlarmStates(cloudwatch),
        clock=clock,
    )
