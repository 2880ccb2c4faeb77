"""Compare a deployed SageMaker pipeline definition with the one Keel would deploy.

The expected definition is rebuilt the way the ML stack deploys it: the offline-built definition with its
synth placeholders (`${ArtifactsKeyArn}`, `${StepImageUri}`) substituted by the real values, which is what
CloudFormation's Fn::Sub does (and equals building with those values as targets). Differences are
reported from the most to the least telling: the step outline (names, types, branches), then every job's
encryption and isolation (Keel's shared rule, `keel.definition_policy`), then any other JSON path.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from keel.config import EnvironmentConfig
from keel.contract import DatasetContract
from keel.definition_policy import iter_steps, job_violations

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


def outline(definition: dict[str, Any]) -> list[str]:
    """Every step as "Name (Type)", branches included, in definition order."""
    return [f"{step.get('Name')} ({step.get('Type')})" for step in iter_steps(definition)]


def deployed_image(definition: dict[str, Any]) -> str | None:
    """The image of the first job (the comparison then checks that every job runs the same one)."""
    for step in iter_steps(definition):
        arguments = step.get("Arguments") or {}
        image = (arguments.get("AppSpecification") or {}).get("ImageUri") or (
            arguments.get("AlgorithmSpecification") or {}
        ).get("TrainingImage")
        if isinstance(image, str):
            return image
    return None


def compare_definitions(
    config: EnvironmentConfig, expected: dict[str, Any], deployed: dict[str, Any], *, kms_key_arn: str
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
            problems.append(f"steps in another order: {', '.join(deployed_outline)}")
    problems.extend(
        job_violations(deployed, require_vpc=config.security.vpc is not None, kms_key_arn=kms_key_arn)
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
