"""DeleteModelPackageGroup for moto's SageMaker (the API is missing; CloudFormation needs it too)."""

from __future__ import annotations

from moto.core.responses import ActionResult, EmptyResult
from moto.sagemaker.exceptions import ValidationError
from moto.sagemaker.models import SageMakerModelBackend
from moto.sagemaker.responses import SageMakerResponse

from keel.local.extensions import Extension


def delete_model_package_group(self: SageMakerModelBackend, model_package_group_name: str) -> None:
    group = self.describe_model_package_group(model_package_group_name)  # raises if unknown
    name = group.model_package_group_name
    if any(package.model_package_group_name == name for package in self.model_packages.values()):
        raise ValidationError(f"Model Package Group {name} contains model packages and cannot be deleted.")
    del self.model_package_groups[name]


def handle_delete_model_package_group(self: SageMakerResponse) -> ActionResult:
    name = self._get_param("ModelPackageGroupName")
    self.sagemaker_backend.delete_model_package_group(name.rsplit("/", 1)[-1])  # type: ignore[attr-defined]
    return EmptyResult()


def install() -> None:
    SageMakerModelBackend.delete_model_package_group = delete_model_package_group  # type: ignore[attr-defined]
    SageMakerResponse.delete_model_package_group = handle_delete_model_package_group  # type: ignore[attr-defined]


EXTENSION = Extension(
    name="sagemaker-delete-model-package-group",
    kind="api",
    what="DeleteModelPackageGroup (refuses a group that still holds model packages, as SageMaker does)",
    why="missing in moto",
    upstream=True,
    install=install,
)
