"""The SageMaker training pipeline exists and its definition is the one Keel deploys for this environment."""

from __future__ import annotations

import json

from botocore.exceptions import ClientError

from keel.config import EnvironmentConfig
from keel.definition_policy import iter_steps
from keel.delivery.definition_check import compare_definitions, deployed_image, expected_definition, outline
from keel.delivery.smoke import CheckFailedError, Permission, SmokeCheck, SmokeContext, is_not_found
from keel.naming import KeyPurpose, key_alias, partition, pipeline_name


def artifacts_key_arn(context: SmokeContext) -> str:
    """The environment's artifacts key, found by its alias: every job must be encrypted with it."""
    alias = key_alias(context.config, KeyPurpose.ARTIFACTS)
    try:
        metadata = context.client("kms").describe_key(KeyId=alias)["KeyMetadata"]
    except ClientError as error:
        if is_not_found(error):
            raise CheckFailedError(f"KMS key {alias} not found: the security stack is not deployed") from None
        raise
    arn: str = metadata["Arn"]
    return arn


def check_training_pipeline(context: SmokeContext) -> str:
    config = context.config
    name = pipeline_name(config)
    try:
        described = context.client("sagemaker").describe_pipeline(PipelineName=name)
    except ClientError as error:
        if is_not_found(error):
            raise CheckFailedError(
                f"SageMaker pipeline {name} not found in {config.account}/{config.region}: "
                "the ML stack is not deployed (or the pipeline was deleted)"
            ) from None
        raise
    if described.get("PipelineStatus") != "Active":
        raise CheckFailedError(f"SageMaker pipeline {name} is {described.get('PipelineStatus')}, not Active")
    try:
        deployed = json.loads(described["PipelineDefinition"])
    except (KeyError, ValueError):
        raise CheckFailedError(f"SageMaker pipeline {name}: the deployed definition is not JSON") from None
    key_arn = artifacts_key_arn(context)
    # The step image is an ECR asset built at deploy time unless the config pins one: read it back.
    image_uri = config.training.image_uri or deployed_image(deployed)
    if not image_uri:
        raise CheckFailedError(f"SageMaker pipeline {name}: no job in the deployed definition names an image")
    expected = expected_definition(config, context.contract, kms_key_arn=key_arn, image_uri=image_uri)
    problems = compare_definitions(config, expected, deployed, kms_key_arn=key_arn)
    if problems:
        raise CheckFailedError(
            f"SageMaker pipeline {name}: the deployed definition is not the expected one:\n"
            + "\n".join(f"- {problem}" for problem in problems)
        )
    job_count = sum(step.get("Type") in ("Processing", "Training") for step in iter_steps(deployed))
    return (
        f"{name}: definition as expected ({len(outline(deployed))} steps; {job_count} jobs encrypted with "
        f"{key_alias(config, KeyPurpose.ARTIFACTS)}, network-isolated, traffic-encrypted)"
    )


def permissions(config: EnvironmentConfig) -> list[Permission]:
    arn = f"arn:{partition(config)}"
    return [
        Permission(
            actions=("sagemaker:DescribePipeline",),
            resources=(f"{arn}:sagemaker:{config.region}:{config.account}:pipeline/{pipeline_name(config)}",),
        ),
        # DescribeKey authorizes on the key, whose id is not known from the config: the alias condition
        # limits it to the artifacts key.
        Permission(
            actions=("kms:DescribeKey",),
            resources=(f"{arn}:kms:{config.region}:{config.account}:key/*",),
            conditions={"StringEquals": {"kms:RequestAlias": key_alias(config, KeyPurpose.ARTIFACTS)}},
        ),
    ]


TRAINING_PIPELINE = SmokeCheck(
    name="training-pipeline",
    description="the SageMaker pipeline exists and its definition is the expected one",
    run=check_training_pipeline,
    permissions=permissions,
)
