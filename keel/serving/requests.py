"""The SageMaker and Application Auto Scaling requests of a deployment, as plain data.

Pure functions of the serving settings and targets, so that what matters for compliance and safety (KMS key
on the endpoint config and the capture, data capture itself, network isolation, blue/green traffic shifting
with auto-rollback alarms) is tested on the exact request the deployer sends.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from keel.serving.names import VARIANT_NAME
from keel.serving.settings import ServingSettings

PACKAGE_TAG = "keel:model-package-arn"
VERSION_TAG = "keel:model-package-version"
SCALABLE_DIMENSION = "sagemaker:variant:DesiredInstanceCount"
INVOCATIONS_METRIC = "SageMakerVariantInvocationsPerInstance"


@dataclass(frozen=True)
class ServingTargets:
    """Where and as whom the deployer deploys (from the environment; see `keel.serving.runtime`)."""

    endpoint_name: str
    execution_role_arn: str
    kms_key_id: str
    capture_uri: str
    rollback_alarms: tuple[str, ...]
    name_prefix: str  # models and endpoint configs: <name_prefix><version>-<time>
    environment: str
    subnet_ids: tuple[str, ...] = ()
    security_group_ids: tuple[str, ...] = ()
    tags: Mapping[str, str] = field(default_factory=dict)


def resource_name(targets: ServingTargets, version: int, now: datetime) -> str:
    return f"{targets.name_prefix}{version}-{now:%Y%m%d%H%M%S}"[:63]


def _tags(targets: ServingTargets, package_arn: str, version: int) -> list[dict[str, str]]:
    tags = {**targets.tags, PACKAGE_TAG: package_arn, VERSION_TAG: str(version)}
    return [{"Key": k, "Value": v} for k, v in tags.items()]


def model_request(targets: ServingTargets, *, name: str, package_arn: str, version: int) -> dict[str, Any]:
    """A model from the approved package version (image and model data come from the registry)."""
    request: dict[str, Any] = {
        "ModelName": name,
        "ExecutionRoleArn": targets.execution_role_arn,
        "PrimaryContainer": {
            "ModelPackageName": package_arn,
            "Environment": {"KEEL_ENV": targets.environment},
        },
        "EnableNetworkIsolation": True,
        "Tags": _tags(targets, package_arn, version),
    }
    if targets.subnet_ids:
        request["VpcConfig"] = {
            "Subnets": list(targets.subnet_ids),
            "SecurityGroupIds": list(targets.security_group_ids),
        }
    return request


def endpoint_config_request(
    targets: ServingTargets,
    settings: ServingSettings,
    *,
    name: str,
    model_name: str,
    package_arn: str,
    version: int,
    instance_count: int | None = None,
) -> dict[str, Any]:
    """One production variant named VARIANT_NAME; KMS key on the config; data capture of inputs and outputs
    to the capture location, encrypted with the same key (instance endpoints; serverless cannot capture)."""
    variant: dict[str, Any] = {"VariantName": VARIANT_NAME, "ModelName": model_name}
    if settings.endpoint_type == "serverless":
        variant["ServerlessConfig"] = {
            "MemorySizeInMB": settings.serverless_memory_mb,
            "MaxConcurrency": settings.serverless_max_concurrency,
        }
    else:
        variant |= {
            "InstanceType": settings.instance_type,
            "InitialInstanceCount": instance_count or settings.initial_instance_count,
            "InitialVariantWeight": 1.0,
        }
    request: dict[str, Any] = {
        "EndpointConfigName": name,
        "ProductionVariants": [variant],
        "KmsKeyId": targets.kms_key_id,
        "Tags": _tags(targets, package_arn, version),
    }
    if settings.data_capture:
        request["DataCaptureConfig"] = {
            "EnableCapture": True,
            "InitialSamplingPercentage": settings.data_capture_percent,
            "DestinationS3Uri": targets.capture_uri,
            "KmsKeyId": targets.kms_key_id,
            "CaptureOptions": [{"CaptureMode": "Input"}, {"CaptureMode": "Output"}],
            "CaptureContentTypeHeader": {
                "CsvContentTypes": ["text/csv"],
                "JsonContentTypes": ["application/json"],
            },
        }
    return request


def traffic_routing(settings: ServingSettings) -> dict[str, Any]:
    wait = settings.wait_interval_seconds
    if settings.traffic_shifting == "canary":
        return {
            "Type": "CANARY",
            "CanarySize": {"Type": "CAPACITY_PERCENT", "Value": settings.canary_percent},
            "WaitIntervalInSeconds": wait,
        }
    if settings.traffic_shifting == "linear":
        return {
            "Type": "LINEAR",
            "LinearStepSize": {"Type": "CAPACITY_PERCENT", "Value": settings.linear_step_percent},
            "WaitIntervalInSeconds": wait,
        }
    return {"Type": "ALL_AT_ONCE", "WaitIntervalInSeconds": wait}


def deployment_config(settings: ServingSettings, rollback_alarms: Sequence[str]) -> dict[str, Any]:
    """SageMaker deployment guardrails: blue/green with canary or linear traffic shifting; any rollback alarm
    in ALARM during a traffic step or the final bake returns all traffic to the old fleet."""
    if not rollback_alarms:
        raise ValueError("a guarded deployment needs at least one rollback alarm")
    return {
        "BlueGreenUpdatePolicy": {
            "TrafficRoutingConfiguration": traffic_routing(settings),
            "TerminationWaitInSeconds": settings.bake_minutes * 60,
            "MaximumExecutionTimeoutInSeconds": max(600, settings.max_deployment_minutes * 60),
        },
        "AutoRollbackConfiguration": {"Alarms": [{"AlarmName": name} for name in rollback_alarms]},
    }


def scaling_resource_id(endpoint_name: str) -> str:
    return f"endpoint/{endpoint_name}/variant/{VARIANT_NAME}"


def scalable_target_request(endpoint_name: str, settings: ServingSettings) -> dict[str, Any]:
    return {
        "ServiceNamespace": "sagemaker",
        "ResourceId": scaling_resource_id(endpoint_name),
        "ScalableDimension": SCALABLE_DIMENSION,
        "MinCapacity": settings.autoscaling_min_instances,
        "MaxCapacity": settings.autoscaling_max_instances,
    }


def scaling_policy_request(endpoint_name: str, settings: ServingSettings) -> dict[str, Any]:
    return {
        "PolicyName": f"{endpoint_name}-invocations",
        "ServiceNamespace": "sagemaker",
        "ResourceId": scaling_resource_id(endpoint_name),
        "ScalableDimension": SCALABLE_DIMENSION,
        "PolicyType": "TargetTrackingScaling",
        "TargetTrackingScalingPolicyConfiguration": {
            "TargetValue": float(settings.autoscaling_target_invocations),
            "PredefinedMetricSpecification": {"PredefinedMetricType": INVOCATIONS_METRIC},
            "ScaleInCooldown": settings.scale_in_cooldown_seconds,
            "ScaleOutCooldown": settings.scale_out_cooldown_seconds,
        },
    }
