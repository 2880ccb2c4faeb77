"""Compare a deployed SageMaker pipeline definition with the one Keel would deploy.

The expected definition is rebuilt the way the ML stack deploys it: the offline-built definition with its
synth placeholders (`${ArtifactsKeyArn}`, `${StepImageUri}`) substituted by the real values, exactly what
CloudFormation's Fn::Sub does. Differences are reported from the most to the least telling: the step
outline (names, types, branches), then every job's encryption and isolation controls, then any other
differing JSON path.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from keel.config import EnvironmentConfig
from keel.contract import DatasetContract

JOB_TYPES = ("Processing", "Training")
MAX_REPORTED_PATHS = 5

# Built once per (config, contract) per process: the SDK import and build cost seconds.
_PLACEHOLDER_BODIES: dict[str, str] = {}


def expected_definition(
    config: EnvironmentConfig, contract: DatasetContract, *, kms_key_arn: str, image_uri: str
) -> dict[str, Any]:
    from pipeline_steps.definition import SYNTH_PLACEHOLDERS, pipeline_definition

    cache_key = f"{config.model_dump_json()}|{contract.name}|{contract.version}"
    if cache_key not in _PLACEHOLDER_BODIES:
        _PLACEHOLDER_BODIES[cache_key] = json.dumps(pipeline_definition(config, contract), sort_keys=True)
    body = _PLACEHOLDER_BODIES[cache_key]
    for name, value in (("kms_key_arn", kms_key_arn), ("image_uri", image_uri)):
        body = body.replace(SYNTH_PLACEHOLDERS[name], json.dumps(value)[1:-1])
    result: dict[str, Any] = json.loads(body)
    return result


def all_steps(definition: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """(branch path, step) for every step, including those inside condition branches."""

    def walk(steps: list[dict[str, Any]], prefix: str) -> Iterator[tuple[str, dict[str, Any]]]:
        for step in steps:
            yield prefix, step
            arguments = step.get("Arguments") or {}
            for branch in ("IfSteps", "ElseSteps"):
                yield from walk(arguments.get(branch) or [], f"{prefix}{step.get('Name')}.{branch}/")

    yield from walk(definition.get("Steps") or [], "")


def outline(definition: dict[str, Any]) -> list[str]:
    return [f"{prefix}{step.get('Name')} ({step.get('Type')})" for prefix, step in all_steps(definition)]


def job_controls(step: dict[str, Any]) -> dict[str, Any]:
    """The security-relevant settings of one job step, whatever its type."""
    arguments = step.get("Arguments") or {}
    if step.get("Type") == "Processing":
        network = arguments.get("NetworkConfig") or {}
        return {
            "volume KMS key": (arguments.get("ProcessingResources") or {})
            .get("ClusterConfig", {})
            .get("VolumeKmsKeyId"),
            "output KMS key": (arguments.get("ProcessingOutputConfig") or {}).get("KmsKeyId"),
            "network isolation": network.get("EnableNetworkIsolation"),
            "inter-container traffic encryption": network.get("EnableInterContainerTrafficEncryption"),
            "image": (arguments.get("AppSpecification") or {}).get("ImageUri"),
        }
    return {
        "volume KMS key": (arguments.get("ResourceConfig") or {}).get("VolumeKmsKeyId"),
        "output KMS key": (arguments.get("OutputDataConfig") or {}).get("KmsKeyId"),
        "network isolation": arguments.get("EnableNetworkIsolation"),
        "inter-container traffic encryption": arguments.get("EnableInterContainerTrafficEncryption"),
        "image": (arguments.get("AlgorithmSpecification") or {}).get("TrainingImage"),
    }


def jobs(definition: dict[str, Any]) -> list[dict[str, Any]]:
    return [step for _, step in all_steps(definition) if step.get("Type") in JOB_TYPES]


def deployed_image(definition: dict[str, Any]) -> str | None:
    """The image of the first job (every job must run the same one; the comparison checks that)."""
    images = [job_controls(job)["image"] for job in jobs(definition)]
    return next((image for image in images if isinstance(image, str)), None)


def compare_definitions(
    expected: dict[str, Any], deployed: dict[str, Any], *, kms_key_arn: str, image_uri: str
) -> list[str]:
    """Human-readable differences; empty when the deployed definition is the expected one."""
    problems: list[str] = []
    expected_outline, deployed_outline = outline(expected), outline(deployed)
    if expected_outline != deployed_outline:
        missing = [s for s in expected_outline if s not in deployed_outline]
        unexpected = [s for s in deployed_outline if s not in expected_outline]
        if missing:
            problems.append(f"missing step(s): {', '.join(missing)}")
        if unexpected:
            problems.append(f"unexpected step(s): {', '.join(unexpected)}")
        if not missing and not unexpected:
            problems.append(f"steps in a different order: {', '.join(deployed_outline)}")
    required = {
        "volume KMS key": kms_key_arn,
        "output KMS key": kms_key_arn,
        "network isolation": True,
        "inter-container traffic encryption": True,
        "image": image_uri,
    }
    for job in jobs(deployed):
        controls = job_controls(job)
        for control, wanted in required.items():
            if controls[control] != wanted:
                problems.append(
                    f"job {job.get('Name')}: {control} is {controls[control]!r}, expected {wanted!r}"
                )
    if not problems and expected != deployed:
        paths = list(_differences(expected, deployed, "definition"))
        problems.extend(paths[:MAX_REPORTED_PATHS])
        if len(paths) > MAX_REPORTED_PATHS:
            problems.append(f"... and {len(paths) - MAX_REPORTED_PATHS} more difference(s)")
    return problems


def _differences(expected: Any, deployed: Any, path: str) -> Iterator[str]:
    if isinstance(expected, dict) and isinstance(deployed, dict):
        for key in sorted(set(expected) | set(deployed)):
            if key not in deployed:
                yield f"{path}.{key}: missing (expected {_short(expected[key])})"
            elif key not in expected:
                yield f"{path}.{key}: unexpected {_short(deployed[key])}"
            else:
                yield from _differences(expected[key], deployed[key], f"{path}.{key}")
    elif isinstance(expected, list) and isinstance(deployed, list) and len(expected) == len(deployed):
        for index, (left, right) in enumerate(zip(expected, deployed, strict=True)):
            name = left.get("Name") if isinstance(left, dict) else None
            yield from _differences(left, right, f"{path}[{name or index}]")
    elif expected != deployed:
        yield f"{path}: {_short(deployed)}, expected {_short(expected)}"


def _short(value: Any, limit: int = 80) -> str:
    text = json.dumps(value, sort_keys=True)
    return text if len(text) <= limit else text[: limit - 3] + "..."
