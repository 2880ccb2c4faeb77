"""The model package group (the model registry) exists."""

from __future__ import annotations

from botocore.exceptions import ClientError

from keel.config import EnvironmentConfig
from keel.delivery.smoke import CheckFailedError, Permission, SmokeCheck, SmokeContext, is_not_found
from keel.naming import model_package_group_name, partition


def check_model_registry(context: SmokeContext) -> str:
    name = model_package_group_name(context.config)
    try:
        group = context.client("sagemaker").describe_model_package_group(ModelPackageGroupName=name)
    except ClientError as error:
        if is_not_found(error):
            raise CheckFailedError(f"model package group {name} not found") from None
        raise
    status = group.get("ModelPackageGroupStatus")
    if status != "Completed":
        raise CheckFailedError(f"model package group {name} is {status}, not Completed")
    return f"{name} exists"


def permissions(config: EnvironmentConfig) -> list[Permission]:
    return [
        Permission(
            actions=("sagemaker:DescribeModelPackageGroup",),
            resources=(
                f"arn:{partition(config)}:sagemaker:{config.region}:{config.account}:model-package-group/"
                f"{model_package_group_name(config)}",
            ),
        )
    ]


MODEL_REGISTRY = SmokeCheck(
    name="model-registry",
    description="the model package group exists",
    run=check_model_registry,
    permissions=permissions,
)
