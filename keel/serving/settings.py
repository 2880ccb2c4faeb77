"""Serving settings: endpoint size, autoscaling, traffic shifting and data capture of one environment.

Typed, with defaults, derived from the environment config only (nothing reads raw CDK context). These are
candidates for `keel.config.EnvironmentConfig` (as a `serving:` section in cdk.json); until they move there,
`serving_settings(config)` is the one place that decides them, with per-environment defaults below.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

if TYPE_CHECKING:  # CDK-side config: annotations only, so no Lambda imports it
    from keel.config import EnvironmentConfig


EndpointType = Literal["instance", "serverless"]
TrafficShifting = Literal["canary", "linear", "all_at_once"]
ServerlessMemory = Literal[1024, 2048, 3072, 4096, 5120, 6144]

# Instance families with local NVMe storage: SageMaker rejects an endpoint-config KmsKeyId for them (their
# volumes are hardware-encrypted), and Keel always sets the key, so they are refused here.
_LOCAL_STORAGE_FAMILY = re.compile(r"^ml\.([a-z]+\d+[a-z]*d[n]?|p4de?|p5e?n?|g5|g6e?|inf2|trn1n?)\.")


class ServingSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    endpoint_type: EndpointType = Field(
        default="instance",
        description="Real-time endpoint on instances, or serverless (no data capture: a service exclusion).",
    )
    instance_type: str = Field(default="ml.m5.large", pattern=r"^ml\.[a-z0-9]+\.[a-z0-9]+$")
    initial_instance_count: int = Field(default=1, ge=1, le=100)
    autoscaling_min_instances: int = Field(default=1, ge=1, le=100)
    autoscaling_max_instances: int = Field(default=2, ge=1, le=100)
    autoscaling_target_invocations: int = Field(
        default=100, ge=1, description="Target invocations per instance per minute (target tracking)."
    )
    scale_in_cooldown_seconds: int = Field(default=300, ge=0, le=3600)
    scale_out_cooldown_seconds: int = Field(default=60, ge=0, le=3600)
    serverless_memory_mb: ServerlessMemory = 2048
    serverless_max_concurrency: int = Field(default=5, ge=1, le=200)
    traffic_shifting: TrafficShifting = "canary"
    canary_percent: int = Field(default=10, ge=1, le=50, description="Capacity share of the canary step.")
    linear_step_percent: int = Field(default=25, ge=5, le=50, description="Capacity share of each step.")
    wait_interval_seconds: int = Field(
        default=300, ge=0, le=3600, description="Bake time of each traffic step, alarms watched."
    )
    bake_minutes: int = Field(
        default=10, ge=0, le=60, description="Bake time after all traffic moved, before the old fleet goes."
    )
    max_deployment_minutes: int = Field(default=120, ge=10, le=240)
    data_capture_percent: int = Field(default=100, ge=1, le=100)

    @model_validator(mode="after")
    def _check(self) -> Self:
        if self.autoscaling_min_instances > self.autoscaling_max_instances:
            raise ValueError("autoscaling_min_instances must not exceed autoscaling_max_instances")
        bounds = (self.autoscaling_min_instances, self.autoscaling_max_instances)
        if not bounds[0] <= self.initial_instance_count <= bounds[1]:
            raise ValueError("initial_instance_count must lie within the autoscaling bounds")
        if self.endpoint_type == "instance" and _LOCAL_STORAGE_FAMILY.match(self.instance_type):
            raise ValueError(
                f"{self.instance_type} has local instance storage: SageMaker refuses an endpoint KMS key for "
                "it, and Keel requires one"
            )
        return self

    @property
    def data_capture(self) -> bool:
        """Serverless endpoints do not support data capture (documented SageMaker exclusion)."""
        return self.endpoint_type == "instance"

    @property
    def autoscaling(self) -> bool:
        return self.endpoint_type == "instance" and self.autoscaling_max_instances > 1


# Per-environment defaults until these settings move into cdk.json: production runs two instances in
# different availability zones (SageMaker spreads instances across AZs), others one.
_ENVIRONMENT_DEFAULTS: dict[str, dict[str, object]] = {
    "prod": {"initial_instance_count": 2, "autoscaling_min_instances": 2, "autoscaling_max_instances": 4},
    "local": {"wait_interval_seconds": 0, "bake_minutes": 0},
}


def serving_settings(config: EnvironmentConfig, **overrides: object) -> ServingSettings:
    """The serving settings of an environment (defaults, the environment's defaults, then overrides)."""
    return ServingSettings.model_validate(_ENVIRONMENT_DEFAULTS.get(config.name, {}) | overrides)
