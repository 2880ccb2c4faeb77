"""The drift publisher's settings: everything it reads, derived from the environment config at synth time and
passed to the Lambda as one JSON environment variable (the local runner builds them from the config)."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from typing import TYPE_CHECKING, Self

from pydantic import BaseModel, ConfigDict, Field

from keel.monitoring.settings import MonitoringSettings, monitoring_settings
from keel.naming import (
    AlarmKind,
    BucketPurpose,
    alarm_prefix,
    bucket_name,
    endpoint_name,
    job_role_name,
    model_package_group_name,
    partition,
    pipeline_name,
)
from keel.serving.model_package import baseline_prefix
from keel.serving.names import drift_job_prefix, endpoint_capture_uri

if TYPE_CHECKING:  # CDK-side config: annotations only, so no Lambda imports it
    from keel.config import EnvironmentConfig

ENVIRONMENT_VARIABLE = "KEEL_MONITORING_SETTINGS"
KMS_KEY_VARIABLE = "KEEL_ARTIFACTS_KEY_ARN"  # a CloudFormation token at synth time: its own variable


class DriftLimits(BaseModel):
    """The drift thresholds the job is given (keel.drift.detect.DriftThresholds, without importing numpy)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    max_feature_psi: float = Field(gt=0)
    ks_p_value: float = Field(gt=0, lt=1)
    max_drifted_feature_share: float = Field(ge=0, le=1)


class PublisherSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    environment: str
    contract: str
    endpoint_name: str
    capture_uri: str
    reports_bucket: str
    pipeline_name: str
    model_package_group: str
    baseline_prefix: str
    job_role_arn: str
    job_prefix: str
    kms_key_arn: str = ""
    instance_type: str
    volume_gb: int = Field(ge=1)
    max_runtime_seconds: int = Field(ge=60)
    subnet_ids: tuple[str, ...] = ()
    security_group_ids: tuple[str, ...] = ()
    tags: dict[str, str] = Field(default_factory=dict)
    thresholds: DriftLimits
    min_rows: int = Field(ge=1)
    window_hours: int = Field(ge=1)
    alarm_prefixes: dict[str, str] = Field(description="retrain reason -> alarm name prefix")

    def to_environ(self) -> dict[str, str]:
        return {ENVIRONMENT_VARIABLE: self.model_dump_json(exclude={"kms_key_arn"})}

    @classmethod
    def from_environ(cls, environ: Mapping[str, str] | None = None) -> Self:
        environ = os.environ if environ is None else environ
        document = json.loads(environ[ENVIRONMENT_VARIABLE])
        return cls.model_validate(document | {"kms_key_arn": environ.get(KMS_KEY_VARIABLE, "")})


def publisher_settings(
    config: EnvironmentConfig, settings: MonitoringSettings | None = None, *, kms_key_arn: str = ""
) -> PublisherSettings:
    settings = settings or monitoring_settings(config)
    vpc = config.security.vpc
    return PublisherSettings(
        environment=config.name,
        contract=config.contract,
        endpoint_name=endpoint_name(config),
        capture_uri=endpoint_capture_uri(config),
        reports_bucket=bucket_name(config, BucketPurpose.REPORTS),
        pipeline_name=pipeline_name(config),
        model_package_group=model_package_group_name(config),
        baseline_prefix=baseline_prefix(config),
        job_role_arn=f"arn:{partition(config)}:iam::{config.account}:role/{job_role_name(config)}",
        job_prefix=drift_job_prefix(config),
        kms_key_arn=kms_key_arn,
        instance_type=config.sizes.processing_instance_type,
        volume_gb=config.sizes.processing_volume_gb,
        max_runtime_seconds=config.training.max_runtime_minutes * 60,
        subnet_ids=vpc.subnet_ids if vpc else (),
        security_group_ids=vpc.security_group_ids if vpc else (),
        tags=config.tags,
        thresholds=DriftLimits(
            max_feature_psi=config.thresholds.max_feature_psi,
            ks_p_value=config.thresholds.ks_p_value,
            max_drifted_feature_share=config.thresholds.max_drifted_feature_share,
        ),
        min_rows=settings.min_capture_rows,
        window_hours=settings.drift_window_hours,
        alarm_prefixes={
            "drift": alarm_prefix(config, AlarmKind.DRIFT),
            "model-quality": alarm_prefix(config, AlarmKind.MODEL_QUALITY),
        },
    )
