"""SageMaker model packages: UpdateModelPackage changes only what the request names, and registering or
updating a version sends SageMaker's `SageMaker Model Package State Change` event to the default bus."""

from __future__ import annotations

from typing import Any

from moto.sagemaker.exceptions import ValidationError
from moto.sagemaker.models import ModelPackage, SageMakerModelBackend

from keel.local.extensions import Extension
from keel.local.service_events import emit

DETAIL_TYPE = "SageMaker Model Package State Change"


def state_change_detail(package: ModelPackage) -> dict[str, Any]:
    detail: dict[str, Any] = {
        "ModelPackageName": package.model_package_name,
        "ModelPackageGroupName": package.model_package_group_name,
        "ModelPackageVersion": package.model_package_version,
        "ModelPackageArn": package.arn,
        "CreationTime": str(package.creation_time),
        "ModelPackageStatus": package.model_package_status,
        "ModelApprovalStatus": package.model_approval_status,
        "CustomerMetadataProperties": dict(package.customer_metadata_properties or {}),
    }
    if package.approval_description:
        detail["ApprovalDescription"] = package.approval_description
    return detail


def _emit(package: ModelPackage) -> None:
    _, _, _, region, account, _ = package.arn.split(":", 5)
    emit(
        account,
        region,
        source="aws.sagemaker",
        detail_type=DETAIL_TYPE,
        detail=state_change_detail(package),
        resources=[package.arn],
    )


def update_model_package(
    self: SageMakerModelBackend,
    model_package_arn: str,
    model_approval_status: str | None,
    approval_description: str | None,
    customer_metadata_properties: dict[str, str] | None,
    customer_metadata_properties_to_remove: list[str],
    additional_inference_specifications_to_add: list[Any] | None,
) -> str:
    name = self.model_package_name_mapping.get(model_package_arn, model_package_arn)
    package = self.model_packages.get(name)
    if package is None:
        raise ValidationError(f"Model package {model_package_arn} not found")
    if model_approval_status is not None:
        package.set_model_approval_status(model_approval_status)
    if approval_description is not None:
        package.approval_description = approval_description
    if customer_metadata_properties:
        package.customer_metadata_properties = {
            **(package.customer_metadata_properties or {}),
            **customer_metadata_properties,
        }
    if customer_metadata_properties_to_remove:
        package.remove_customer_metadata_property(customer_metadata_properties_to_remove)
    if additional_inference_specifications_to_add:
        package.add_additional_inference_specifications(additional_inference_specifications_to_add)
    package.modifications_done()  # LastModifiedTime and LastModifiedBy, as moto's own update sets them
    _emit(package)
    return str(package.arn)


def install() -> None:
    original_create = SageMakerModelBackend.create_model_package

    def create_model_package(self: SageMakerModelBackend, *args: Any, **kwargs: Any) -> str:
        arn = original_create(self, *args, **kwargs)
        package = self.model_packages.get(self.model_package_name_mapping.get(arn, arn))
        if package is not None:
            _emit(package)
        return str(arn)

    SageMakerModelBackend.create_model_package = create_model_package  # type: ignore[method-assign]
    SageMakerModelBackend.update_model_package = update_model_package  # type: ignore[method-assign]


EXTENSION = Extension(
    name="sagemaker-model-packages",
    kind="fix",
    what="UpdateModelPackage changes only the fields it is given (CustomerMetadataProperties merged, "
    "approval status and description kept when absent) and sets LastModifiedTime/LastModifiedBy; "
    "CreateModelPackage and UpdateModelPackage send "
    f"`{DETAIL_TYPE}` to the default bus",
    why="moto replaced the metadata and approval status with None when a request did not name them, and "
    "sent no events: the policy gate and the deployer were never told of a new or approved version",
    upstream=True,
    install=install,
)
