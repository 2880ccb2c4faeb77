"""Serving settings and the exact SageMaker requests of a deployment: KMS, data capture, network isolation,
guardrails with rollback alarms, autoscaling."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from keel.config import load_environment
from keel.monitoring.names import rollback_alarm_names
from keel.serving.requests import (
    ServingTargets,
    deployment_config,
    endpoint_config_request,
    model_request,
    resource_name,
    scalable_target_request,
    scaling_policy_request,
)
from keel.serving.settings import ServingSettings, serving_settings

KEY = "arn:aws:kms:eu-west-1:111111111111:key/k"
TARGETS = ServingTargets(
    endpoint_name="keel-dev-endpoint",
    execution_role_arn="arn:aws:iam::111111111111:role/keel-dev-endpoint",
    kms_key_id=KEY,
    capture_uri="s3://keel-dev-reports-111111111111-eu-west-1/data-capture",
    rollback_alarms=("keel-dev-system-endpoint-5xx", "keel-dev-system-endpoint-latency"),
    name_prefix="keel-dev-v",
    environment="dev",
    tags={"environment": "dev"},
)
PACKAGE = "arn:aws:sagemaker:eu-west-1:111111111111:model-package/keel-dev-models/7"


def test_environment_defaults() -> None:
    prod, dev, local = (serving_settings(load_environment(n)) for n in ("prod", "dev", "local"))
    assert (prod.initial_instance_count, prod.autoscaling_min_instances, prod.autoscaling_max_instances) == (
        2,
        2,
        4,
    )
    assert (dev.initial_instance_count, dev.traffic_shifting, dev.canary_percent) == (1, "canary", 10)
    assert local.wait_interval_seconds == 0 and local.bake_minutes == 0
    assert serving_settings(load_environment("dev"), endpoint_type="serverless").data_capture is False


@pytest.mark.parametrize(
    "overrides",
    [
        {"autoscaling_min_instances": 3, "autoscaling_max_instances": 2},
        {"initial_instance_count": 5},
        {"instance_type": "ml.m5d.large"},
        {"instance_type": "ml.g4dn.xlarge"},
        {"canary_percent": 0},
        {"serverless_memory_mb": 1000},
        {"unknown": 1},
    ],
)
def test_invalid_settings_are_refused(overrides: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        ServingSettings.model_validate(overrides)


def test_model_request_is_network_isolated_and_built_from_the_package() -> None:
    request = model_request(TARGETS, name="keel-dev-v7-x", package_arn=PACKAGE, version=7)
    assert request["PrimaryContainer"]["ModelPackageName"] == PACKAGE
    assert request["EnableNetworkIsolation"] is True
    assert request["ExecutionRoleArn"] == TARGETS.execution_role_arn
    tags = {t["Key"]: t["Value"] for t in request["Tags"]}
    assert tags == {
        "environment": "dev",
        "keel:model-package-arn": PACKAGE,
        "keel:model-package-version": "7",
    }
    assert "VpcConfig" not in request


def test_endpoint_config_has_the_kms_key_and_captures_inputs_and_outputs_encrypted() -> None:
    settings = ServingSettings()
    request = endpoint_config_request(
        TARGETS, settings, name="c", model_name="m", package_arn=PACKAGE, version=7
    )
    assert request["KmsKeyId"] == KEY
    (variant,) = request["ProductionVariants"]
    assert variant == {
        "VariantName": "live",
        "ModelName": "m",
        "InstanceType": "ml.m5.large",
        "InitialInstanceCount": 1,
        "InitialVariantWeight": 1.0,
    }
    capture = request["DataCaptureConfig"]
    assert capture["EnableCapture"] is True and capture["InitialSamplingPercentage"] == 100
    assert capture["DestinationS3Uri"] == TARGETS.capture_uri and capture["KmsKeyId"] == KEY
    assert capture["CaptureOptions"] == [{"CaptureMode": "Input"}, {"CaptureMode": "Output"}]
    bigger = endpoint_config_request(
        TARGETS, settings, name="c", model_name="m", package_arn=PACKAGE, version=7, instance_count=3
    )
    assert bigger["ProductionVariants"][0]["InitialInstanceCount"] == 3


def test_serverless_endpoint_config_keeps_the_key_but_cannot_capture() -> None:
    settings = ServingSettings(
        endpoint_type="serverless", serverless_memory_mb=3072, serverless_max_concurrency=7
    )
    request = endpoint_config_request(
        TARGETS, settings, name="c", model_name="m", package_arn=PACKAGE, version=7
    )
    assert request["ProductionVariants"][0]["ServerlessConfig"] == {
        "MemorySizeInMB": 3072,
        "MaxConcurrency": 7,
    }
    assert "InstanceType" not in request["ProductionVariants"][0]
    assert request["KmsKeyId"] == KEY and "DataCaptureConfig" not in request
    assert settings.autoscaling is False


def test_guardrails_canary_linear_and_all_at_once_with_rollback_alarms() -> None:
    alarms = rollback_alarm_names(load_environment("dev"))
    canary = deployment_config(
        ServingSettings(canary_percent=20, wait_interval_seconds=600, bake_minutes=15), alarms
    )
    policy = canary["BlueGreenUpdatePolicy"]
    assert policy["TrafficRoutingConfiguration"] == {
        "Type": "CANARY",
        "CanarySize": {"Type": "CAPACITY_PERCENT", "Value": 20},
        "WaitIntervalInSeconds": 600,
    }
    assert policy["TerminationWaitInSeconds"] == 900
    assert policy["MaximumExecutionTimeoutInSeconds"] == 7200
    assert canary["AutoRollbackConfiguration"] == {
        "Alarms": [
            {"AlarmName": "keel-dev-system-endpoint-5xx"},
            {"AlarmName": "keel-dev-system-endpoint-latency"},
        ]
    }
    linear = deployment_config(ServingSettings(traffic_shifting="linear", linear_step_percent=25), alarms)
    assert linear["BlueGreenUpdatePolicy"]["TrafficRoutingConfiguration"]["LinearStepSize"] == {
        "Type": "CAPACITY_PERCENT",
        "Value": 25,
    }
    once = deployment_config(ServingSettings(traffic_shifting="all_at_once"), alarms)
    assert once["BlueGreenUpdatePolicy"]["TrafficRoutingConfiguration"]["Type"] == "ALL_AT_ONCE"
    with pytest.raises(ValueError, match="rollback alarm"):
        deployment_config(ServingSettings(), ())


def test_autoscaling_requests() -> None:
    settings = ServingSettings(
        initial_instance_count=2, autoscaling_min_instances=2, autoscaling_max_instances=6
    )
    target = scalable_target_request("ep", settings)
    assert target == {
        "ServiceNamespace": "sagemaker",
        "ResourceId": "endpoint/ep/variant/live",
        "ScalableDimension": "sagemaker:variant:DesiredInstanceCount",
        "MinCapacity": 2,
        "MaxCapacity": 6,
    }
    policy = scaling_policy_request("ep", settings)
    tracking = policy["TargetTrackingScalingPolicyConfiguration"]
    assert (
        tracking["PredefinedMetricSpecification"]["PredefinedMetricType"]
        == "SageMakerVariantInvocationsPerInstance"
    )
    assert tracking["TargetValue"] == 100.0


def test_resource_names_fit_sagemaker_limits() -> None:
    name = resource_name(TARGETS, 12345, datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC))
    assert name == "keel-dev-v12345-20260102030405" and len(name) <= 63
