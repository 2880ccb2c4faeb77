"""AWS::SageMaker::Pipeline and AWS::SageMaker::ModelPackageGroup through moto's SageMaker backend.

moto skips both types. The pipeline definition must be JSON, as SageMaker requires (moto's API accepts
anything); an S3 location is read from moto's S3, as CloudFormation does.
"""

from __future__ import annotations

import contextlib
import json
from datetime import datetime
from typing import Any, Self

from moto.s3.models import s3_backends
from moto.sagemaker.exceptions import ValidationError
from moto.sagemaker.models import SageMakerModelBackend, sagemaker_backends
from moto.utilities.utils import get_partition
from typing_extensions import override

from keel.local.cfn_models.base import KeelModel, Properties, tag_list
from keel.local.cfn_models.registry import register
from keel.local.extensions import Extension
from keel.local.patches.sagemaker_model_package_group import delete_model_package_group


class InvalidPipelineDefinitionError(ValueError):
    pass


def _backend(model: KeelModel) -> SageMakerModelBackend:
    return sagemaker_backends[model.account_id][model.region_name]


def pipeline_definition(properties: Properties, account_id: str, region_name: str) -> str:
    definition = properties.get("PipelineDefinition") or {}
    if "PipelineDefinitionBody" in definition:
        body = definition["PipelineDefinitionBody"]
    else:
        location = definition["PipelineDefinitionS3Location"]
        s3 = s3_backends[account_id][get_partition(region_name)]
        key = s3.get_object(location["Bucket"], location["Key"], version_id=location.get("Version"))
        body = key.value.decode("utf-8")  # type: ignore[union-attr]
    try:
        json.loads(body)
    except (TypeError, ValueError) as error:
        raise InvalidPipelineDefinitionError(f"PipelineDefinition is not valid JSON: {error}") from None
    return str(body)


class Pipeline(KeelModel):
    TYPE = "AWS::SageMaker::Pipeline"
    NAME_PROPERTY = "PipelineName"
    CREATE_ONLY = ("PipelineName",)

    @classmethod
    @override
    def create(cls, name: str, properties: Properties, account_id: str, region_name: str) -> Self:
        sagemaker_backends[account_id][region_name].create_pipeline(
            pipeline_name=name,
            pipeline_display_name=properties.get("PipelineDisplayName", name),
            pipeline_definition=pipeline_definition(properties, account_id, region_name),
            pipeline_definition_s3_location=None,  # type: ignore[arg-type]
            pipeline_description=properties.get("PipelineDescription"),  # type: ignore[arg-type]
            role_arn=properties["RoleArn"],
            tags=tag_list(properties),
            parallelism_configuration=properties.get("ParallelismConfiguration"),  # type: ignore[arg-type]
        )
        return cls(account_id=account_id, region_name=region_name, physical_id=name, properties=properties)

    @override
    def apply(self, properties: Properties) -> None:
        backend = _backend(self)
        backend.update_pipeline(
            self.physical_id,
            pipeline_display_name=properties.get("PipelineDisplayName", self.physical_id),
            pipeline_definition=pipeline_definition(properties, self.account_id, self.region_name),
            pipeline_description=properties.get("PipelineDescription"),
            role_arn=properties["RoleArn"],
            parallelism_configuration=properties.get("ParallelismConfiguration"),
        )
        backend.pipelines[self.physical_id].tags = tag_list(properties)

    @override
    def remove(self) -> None:
        with contextlib.suppress(ValidationError, KeyError):
            _backend(self).delete_pipeline(self.physical_id)


class ModelPackageGroup(KeelModel):
    TYPE = "AWS::SageMaker::ModelPackageGroup"
    NAME_PROPERTY = "ModelPackageGroupName"
    CREATE_ONLY = ("ModelPackageGroupName", "ModelPackageGroupDescription")
    ATTRIBUTES = ("ModelPackageGroupArn", "CreationTime", "ModelPackageGroupStatus")

    @classmethod
    @override
    def create(cls, name: str, properties: Properties, account_id: str, region_name: str) -> Self:
        arn = sagemaker_backends[account_id][region_name].create_model_package_group(
            model_package_group_name=name,
            model_package_group_description=properties.get("ModelPackageGroupDescription"),  # type: ignore[arg-type]
            tags=tag_list(properties),
        )
        group = cls(account_id=account_id, region_name=region_name, physical_id=arn, properties={})
        group.apply(properties)
        return group

    @property
    def group_name(self) -> str:
        return self.physical_id.rsplit("/", 1)[-1]

    @override
    def apply(self, properties: Properties) -> None:
        group = _backend(self).model_package_groups[self.group_name]
        group.tags = tag_list(properties)
        # Kept for inspection only: moto has no model package group policy API.
        group.keel_policy = properties.get("ModelPackageGroupPolicy")  # type: ignore[attr-defined]

    @override
    def remove(self) -> None:
        backend = _backend(self)
        if self.group_name in backend.model_package_groups:  # gone already counts as deleted
            delete_model_package_group(backend, self.group_name)

    @override
    def attribute(self, name: str) -> Any:
        group = _backend(self).model_package_groups[self.group_name]
        if name == "CreationTime":
            created: datetime = group.creation_time
            return created.isoformat()
        if name == "ModelPackageGroupStatus":
            return group.model_package_group_status
        return self.physical_id


def install() -> None:
    register(Pipeline, ModelPackageGroup)


EXTENSION = Extension(
    name="cfn-sagemaker",
    kind="cfn-model",
    what="AWS::SageMaker::Pipeline (definition body or S3 location, validated as JSON) and "
    "AWS::SageMaker::ModelPackageGroup (Ref = ARN, GetAtt ARN/CreationTime/Status)",
    why="moto skips both types: the ML pipeline and model registry did not exist locally",
    upstream=True,
    install=install,
)
