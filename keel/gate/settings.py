"""Typed settings of the governance functions (policy gate, Macie quarantine), derived from the environment
config in one place.

The governance stack passes `GovernanceSettings.from_config(config).to_environ()` to both Lambdas; the
handlers read it back with `from_environ()`. The CLI and the local runner build it from the config directly,
so every caller runs the same code path with the same names and thresholds.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from keel.naming import (
    MACIE_BUCKETS,
    BucketPurpose,
    KeyPurpose,
    StackConcern,
    alert_topic_name,
    bucket_name,
    key_alias,
    model_package_group_name,
    partition,
    pipeline_name,
    stack_name,
)

if TYPE_CHECKING:  # CDK-side config: annotations only, so no Lambda imports it
    from keel.config import EnvironmentConfig

ENV_PREFIX = "KEEL_GOV_"
# Buckets the training inputs may come from (the gate reads their versions back).
INPUT_BUCKETS = (BucketPurpose.RAW, BucketPurpose.CURATED, BucketPurpose.FEEDBACK)


class SettingsError(ValueError):
    """A required environment variable is missing or invalid; the message names it."""


def idempotency_table_name(config: EnvironmentConfig) -> str:
    return f"{config.prefix}-governance-idempotency"


def governance_stack_name(config: EnvironmentConfig) -> str:
    return stack_name(config, StackConcern.GOVERNANCE)


class GovernanceSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    env: str = Field(min_length=1)
    account: str = Field(pattern=r"^\d{12}$")
    region: str = Field(min_length=1)
    partition: str = Field(min_length=1)
    auto_approve: bool
    min_accuracy: float = Field(ge=0, le=1)
    max_feature_psi: float = Field(gt=0)
    ks_p_value: float = Field(gt=0, lt=1)
    max_drifted_feature_share: float = Field(ge=0, le=1)
    model_package_group: str = Field(min_length=1)
    pipeline_name: str = Field(min_length=1)
    reports_bucket: str = Field(min_length=3)
    artifacts_bucket: str = Field(min_length=3)
    evidence_bucket: str = Field(min_length=3)
    input_buckets: tuple[str, ...] = Field(min_length=1)
    macie_buckets: tuple[str, ...] = Field(min_length=1)
    artifacts_key_alias: str = Field(pattern=r"^alias/.+$")
    alert_topic_arn: str = Field(pattern=r"^arn:aws[a-z-]*:sns:.+$")
    idempotency_table: str = Field(min_length=3)
    idempotency_ttl_seconds: int = Field(ge=60)

    @field_validator("input_buckets", "macie_buckets", mode="before")
    @classmethod
    def _split(cls, value: Any) -> Any:
        # Tuples travel as comma-separated strings in the environment.
        if isinstance(value, str):
            return tuple(part for part in value.split(",") if part)
        return value

    @classmethod
    def from_config(cls, config: EnvironmentConfig) -> Self:
        thresholds = config.thresholds
        return cls(
            env=config.name,
            account=config.account,
            region=config.region,
            partition=partition(config),
            auto_approve=config.auto_approve,
            min_accuracy=thresholds.min_accuracy,
            max_feature_psi=thresholds.max_feature_psi,
            ks_p_value=thresholds.ks_p_value,
            max_drifted_feature_share=thresholds.max_drifted_feature_share,
            model_package_group=model_package_group_name(config),
            pipeline_name=pipeline_name(config),
            reports_bucket=bucket_name(config, BucketPurpose.REPORTS),
            artifacts_bucket=bucket_name(config, BucketPurpose.ARTIFACTS),
            evidence_bucket=bucket_name(config, BucketPurpose.EVIDENCE),
            input_buckets=tuple(bucket_name(config, p) for p in INPUT_BUCKETS),
            macie_buckets=tuple(bucket_name(config, p) for p in MACIE_BUCKETS),
            artifacts_key_alias=key_alias(config, KeyPurpose.ARTIFACTS),
            alert_topic_arn=(
                f"arn:{partition(config)}:sns:{config.region}:{config.account}:{alert_topic_name(config)}"
            ),
            idempotency_table=idempotency_table_name(config),
            idempotency_ttl_seconds=config.feedback.idempotency_ttl_hours * 3600,
        )

    @classmethod
    def from_environ(cls, environ: Mapping[str, str] | None = None) -> Self:
        environ = os.environ if environ is None else environ
        values = {
            name: environ[ENV_PREFIX + name.upper()]
            for name in cls.model_fields
            if ENV_PREFIX + name.upper() in environ
        }
        try:
            return cls.model_validate(values)
        except ValidationError as error:
            problems = "; ".join(
                f"{ENV_PREFIX}{str(item['loc'][0]).upper()}: {item['msg']}" for item in error.errors()
            )
            raise SettingsError(f"governance function: invalid environment: {problems}") from None

    def to_environ(self) -> dict[str, str]:
        environ = {}
        for name, value in self.model_dump().items():
            text = (
                ",".join(value)
                if isinstance(value, tuple)
                else str(value).lower()
                if isinstance(value, bool)
                else str(value)
            )
            environ[ENV_PREFIX + name.upper()] = text
        return environ

    # --- ARNs the gate works with (one place) ---
    @property
    def model_package_arn_prefix(self) -> str:
        return (
            f"arn:{self.partition}:sagemaker:{self.region}:{self.account}:model-package/"
            f"{self.model_package_group}/"
        )

    def model_package_arn(self, version: int) -> str:
        return f"{self.model_package_arn_prefix}{version}"

    @property
    def pipeline_arn(self) -> str:
        return f"arn:{self.partition}:sagemaker:{self.region}:{self.account}:pipeline/{self.pipeline_name}"

    def execution_arn(self, execution_id: str) -> str:
        return f"{self.pipeline_arn}/execution/{execution_id}"
