"""What makes a pipeline definition compliant: every job encrypted (volume and output KMS key), network
isolated and encrypting inter-container traffic (and in the VPC when one is configured).

One function used by the definition tests, the policy gate and the delivery smoke check: neither cdk-nag
nor checkov can see inside a pipeline definition.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any


def iter_steps(definition: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Every step, including those nested in condition branches."""
    pending = list(definition.get("Steps", []))
    while pending:
        step = pending.pop(0)
        yield step
        arguments = step.get("Arguments", {})
        if step.get("Type") == "Condition":
            pending.extend(arguments.get("IfSteps", []))
            pending.extend(arguments.get("ElseSteps", []))


def job_violations(
    definition: dict[str, Any], *, require_vpc: bool = False, kms_key_arn: str | None = None
) -> list[str]:
    """Human-readable violations ("<step>: <what is wrong>"); empty when every job is compliant."""
    violations: list[str] = []
    jobs = 0
    for step in iter_steps(definition):
        kind, name, arguments = step.get("Type"), step.get("Name", "?"), step.get("Arguments", {})
        if kind == "Processing":
            jobs += 1
            volume_key = (
                arguments.get("ProcessingResources", {}).get("ClusterConfig", {}).get("VolumeKmsKeyId")
            )
            output_key = arguments.get("ProcessingOutputConfig", {}).get("KmsKeyId")
            network = arguments.get("NetworkConfig", {})
            isolation = network.get("EnableNetworkIsolation")
            traffic = network.get("EnableInterContainerTrafficEncryption")
            vpc = network.get("VpcConfig")
        elif kind == "Training":
            jobs += 1
            volume_key = arguments.get("ResourceConfig", {}).get("VolumeKmsKeyId")
            output_key = arguments.get("OutputDataConfig", {}).get("KmsKeyId")
            isolation = arguments.get("EnableNetworkIsolation")
            traffic = arguments.get("EnableInterContainerTrafficEncryption")
            vpc = arguments.get("VpcConfig")
        else:
            continue
        for label, key in (("volume", volume_key), ("output", output_key)):
            if not key:
                violations.append(f"{name}: no {label} KMS key")
            elif kms_key_arn and key != kms_key_arn:
                violations.append(f"{name}: {label} KMS key is {key}, not Keel's artifacts key")
        if isolation is not True:
            violations.append(f"{name}: network isolation is not enabled")
        if traffic is not True:
            violations.append(f"{name}: inter-container traffic encryption is not enabled")
        if require_vpc and not vpc:
            violations.append(f"{name}: not in the configured VPC")
    if jobs == 0:
        violations.append("the definition has no processing or training job")
    return violations
