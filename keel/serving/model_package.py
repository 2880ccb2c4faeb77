"""Approved model versions: the EventBridge approval event, and what a deployment needs from the registry.

The training pipeline registers each version with `keel:execution_id` in its customer metadata; the training
baseline (the drift reference) is that execution's preprocess output, so a deployed version always finds the
baseline it was trained against.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from keel.naming import BucketPurpose, bucket_name, pipeline_name

if TYPE_CHECKING:  # CDK-side config: annotations only, so no Lambda imports it
    from keel.config import EnvironmentConfig

APPROVAL_DETAIL_TYPE = "SageMaker Model Package State Change"
APPROVED = "Approved"
EXECUTION_ID_METADATA = "keel:execution_id"


class EventError(ValueError):
    """The event is not one the deployer acts on; the message says why."""


class _ApprovalDetail(BaseModel):
    model_config = ConfigDict(extra="ignore")

    ModelPackageGroupName: str
    ModelPackageVersion: int = Field(ge=1)
    ModelPackageArn: str = Field(pattern=r"^arn:aws[a-z-]*:sagemaker:[a-z0-9-]+:\d{12}:model-package/.+/\d+$")
    ModelApprovalStatus: str


@dataclass(frozen=True)
class Approval:
    event_id: str
    time: str
    group: str
    version: int
    package_arn: str


def parse_approval(event: dict[str, Any], group: str) -> Approval:
    """The approval of a version of Keel's model package `group`, or EventError (other group, not approved,
    malformed)."""
    if event.get("detail-type") != APPROVAL_DETAIL_TYPE:
        raise EventError(f"not a model package state change: {event.get('detail-type')!r}")
    try:
        detail = _ApprovalDetail.model_validate(event.get("detail"))
    except ValidationError as error:
        raise EventError(f"malformed model package event: {error.errors()[0]['msg']}") from None
    if detail.ModelPackageGroupName != group:
        raise EventError(f"model package group {detail.ModelPackageGroupName!r} is not Keel's ({group!r})")
    if detail.ModelApprovalStatus != APPROVED:
        raise EventError(f"model package is {detail.ModelApprovalStatus}, not {APPROVED}")
    return Approval(
        event_id=str(event.get("id", "")),
        time=str(event.get("time", "")),
        group=detail.ModelPackageGroupName,
        version=detail.ModelPackageVersion,
        package_arn=detail.ModelPackageArn,
    )


@dataclass(frozen=True)
class ModelVersion:
    """A registered, approved model version as the deployer and the drift check need it."""

    package_arn: str
    version: int
    approval_status: str
    image_uri: str
    model_data_url: str
    execution_id: str | None
    approval_description: str | None
    approved_by: str | None

    def baseline_uri(self, config: EnvironmentConfig) -> str:
        """The training baseline of this version (preprocess's `baseline` output of its execution)."""
        if not self.execution_id:
            raise ValueError(f"{self.package_arn} has no {EXECUTION_ID_METADATA} metadata: no known baseline")
        return baseline_uri(config, self.execution_id)


def baseline_uri(config: EnvironmentConfig, execution_id: str) -> str:
    """As the pipeline definition writes it: s3://<artifacts>/pipeline/<pipeline>/<execution id>/baseline."""
    return f"{baseline_prefix(config)}{execution_id}/baseline"


def baseline_prefix(config: EnvironmentConfig) -> str:
    return f"s3://{bucket_name(config, BucketPurpose.ARTIFACTS)}/pipeline/{pipeline_name(config)}/"


def version_of(package_arn: str) -> int:
    return int(package_arn.rsplit("/", 1)[-1])


class ModelRegistry(Protocol):
    def describe(self, package_arn: str) -> ModelVersion: ...


class SageMakerModelRegistry:
    def __init__(self, sagemaker: Any) -> None:
        self._sagemaker = sagemaker

    def describe(self, package_arn: str) -> ModelVersion:
        package = self._sagemaker.describe_model_package(ModelPackageName=package_arn)
        return model_version(package)


def model_version(package: dict[str, Any]) -> ModelVersion:
    """From a DescribeModelPackage response."""
    containers = package.get("InferenceSpecification", {}).get("Containers") or [{}]
    container = containers[0]
    metadata = package.get("CustomerMetadataProperties") or {}
    modified_by = package.get("LastModifiedBy") or {}
    return ModelVersion(
        package_arn=package["ModelPackageArn"],
        version=int(package.get("ModelPackageVersion") or version_of(package["ModelPackageArn"])),
        approval_status=package.get("ModelApprovalStatus", ""),
        image_uri=container.get("Image", ""),
        model_data_url=container.get("ModelDataUrl", ""),
        execution_id=metadata.get(EXECUTION_ID_METADATA),
        approval_description=package.get("ApprovalDescription"),
        approved_by=modified_by.get("UserProfileName") or modified_by.get("IamIdentity", {}).get("Arn"),
    )
