"""AWS::SageMaker::Pipeline and AWS::SageMaker::ModelPackageGroup on the local server, checked through
the SageMaker API."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from botocore.exceptions import ClientError

from keel.local import cfn_deploy

pytestmark = pytest.mark.integration


def _definition(steps: int) -> str:
    return json.dumps(
        {
            "Version": "2020-12-01",
            "Parameters": [{"Name": "InputUri", "Type": "String"}],
            "Steps": [{"Name": f"Step{i}", "Type": "Fail", "Arguments": {}} for i in range(steps)],
        }
    )


def _template(
    prefix: str, *, definition: str, definition_in_s3: bool = False, stage: str = "v1"
) -> dict[str, Any]:
    pipeline_definition: dict[str, Any] = (
        {"PipelineDefinitionS3Location": {"Bucket": prefix, "Key": "pipeline.json"}}
        if definition_in_s3
        else {"PipelineDefinitionBody": definition}
    )
    return {
        "Resources": {
            "Pipeline": {
                "Type": "AWS::SageMaker::Pipeline",
                "DependsOn": "Models",  # so that a failing pipeline has something to roll back
                "Properties": {
                    "PipelineName": f"{prefix}-training",
                    "PipelineDescription": "Keel training pipeline",
                    "RoleArn": {"Fn::Sub": "arn:aws:iam::${AWS::AccountId}:role/keel-pipeline"},
                    "PipelineDefinition": pipeline_definition,
                    "Tags": [{"Key": "project", "Value": "keel"}],
                },
            },
            "Models": {
                "Type": "AWS::SageMaker::ModelPackageGroup",
                "Properties": {
                    "ModelPackageGroupName": f"{prefix}-models",
                    "ModelPackageGroupDescription": "Keel models",
                    "Tags": [{"Key": "stage", "Value": stage}],
                },
            },
        },
        "Outputs": {
            "GroupRef": {"Value": {"Ref": "Models"}},
            "GroupArn": {"Value": {"Fn::GetAtt": ["Models", "ModelPackageGroupArn"]}},
            "GroupStatus": {"Value": {"Fn::GetAtt": ["Models", "ModelPackageGroupStatus"]}},
        },
    }


def test_pipeline_and_model_package_group(moto_server: Any) -> None:
    cfn, sagemaker, s3 = (moto_server.client(s) for s in ("cloudformation", "sagemaker", "s3"))
    prefix = f"keel-{uuid.uuid4().hex[:8]}"
    pipeline, group = f"{prefix}-training", f"{prefix}-models"

    outputs = cfn_deploy.outputs(cfn_deploy.deploy(cfn, prefix, _template(prefix, definition=_definition(2))))
    described = sagemaker.describe_pipeline(PipelineName=pipeline)
    assert json.loads(described["PipelineDefinition"]) == json.loads(_definition(2))
    assert described["RoleArn"] == f"arn:aws:iam::{moto_server.account_id}:role/keel-pipeline"
    assert described["PipelineDescription"] == "Keel training pipeline"
    model_group = sagemaker.describe_model_package_group(ModelPackageGroupName=group)
    assert outputs["GroupRef"] == outputs["GroupArn"] == model_group["ModelPackageGroupArn"]
    assert outputs["GroupStatus"] == model_group["ModelPackageGroupStatus"] == "Completed"

    # An update with the definition in S3 (as CloudFormation reads it from there).
    s3.create_bucket(Bucket=prefix)
    s3.put_object(Bucket=prefix, Key="pipeline.json", Body=_definition(3).encode())
    assert sagemaker.list_tags(ResourceArn=outputs["GroupArn"])["Tags"] == [{"Key": "stage", "Value": "v1"}]
    cfn_deploy.deploy(cfn, prefix, _template(prefix, definition="", definition_in_s3=True, stage="v2"))
    steps = json.loads(sagemaker.describe_pipeline(PipelineName=pipeline)["PipelineDefinition"])["Steps"]
    assert len(steps) == 3
    assert sagemaker.list_tags(ResourceArn=outputs["GroupArn"])["Tags"] == [{"Key": "stage", "Value": "v2"}]

    cfn_deploy.delete(cfn, prefix)
    with pytest.raises(ClientError, match="Could not find pipeline"):
        sagemaker.describe_pipeline(PipelineName=pipeline)
    with pytest.raises(ClientError, match="does not exist"):
        sagemaker.describe_model_package_group(ModelPackageGroupName=group)
    s3.delete_object(Bucket=prefix, Key="pipeline.json")
    s3.delete_bucket(Bucket=prefix)


def test_an_invalid_pipeline_definition_fails_the_stack(moto_server: Any) -> None:
    cfn = moto_server.client("cloudformation")
    prefix = f"keel-{uuid.uuid4().hex[:8]}"
    with pytest.raises(cfn_deploy.StackError, match="not valid JSON") as raised:
        cfn_deploy.deploy(cfn, prefix, _template(prefix, definition="{not json"))
    assert raised.value.status == "ROLLBACK_COMPLETE"
    # Rolled back: the group created before the pipeline failed is gone again, and reading the failed
    # stack's outputs (which name the group) does not bring it back.
    cfn.describe_stacks(StackName=prefix)
    sagemaker = moto_server.client("sagemaker")
    assert sagemaker.list_model_package_groups(NameContains=prefix)["ModelPackageGroupSummaryList"] == []
    cfn.delete_stack(StackName=prefix)


def test_update_model_package_keeps_fields_and_sets_last_modified(moto_server: Any) -> None:
    sagemaker = moto_server.client("sagemaker")
    group = f"keel-{uuid.uuid4().hex[:8]}-models"
    sagemaker.create_model_package_group(ModelPackageGroupName=group)
    arn = sagemaker.create_model_package(
        ModelPackageGroupName=group,
        ModelApprovalStatus="PendingManualApproval",
        CustomerMetadataProperties={"keel:execution_id": "abc"},
    )["ModelPackageArn"]
    created = sagemaker.describe_model_package(ModelPackageName=arn)
    assert "LastModifiedBy" not in created

    sagemaker.update_model_package(ModelPackageArn=arn, ModelApprovalStatus="Approved")
    updated = sagemaker.describe_model_package(ModelPackageName=arn)
    assert updated["LastModifiedBy"] == created["CreatedBy"]  # as moto's own UpdateModelPackage sets it
    assert updated["LastModifiedTime"] >= created["CreationTime"]
    assert updated["ModelApprovalStatus"] == "Approved"
    assert updated["CustomerMetadataProperties"] == {"keel:execution_id": "abc"}


def test_an_unimplemented_action_says_so_once_instead_of_a_retried_500(moto_server: Any) -> None:
    """moto lacks SageMaker's lineage APIs: the local AWS answers 501 NotImplemented naming the action, which
    botocore's retry modes do not retry (a 500 was retried five times, then read as InternalFailure)."""
    import boto3
    from botocore.config import Config

    sagemaker = boto3.client(
        "sagemaker",
        endpoint_url=moto_server.endpoint_url,
        region_name=moto_server.region,
        aws_access_key_id="test",
        aws_secret_access_key="test",
        config=Config(retries={"mode": "standard", "max_attempts": 5}),
    )
    with pytest.raises(ClientError) as raised:
        sagemaker.add_association(
            SourceArn=f"arn:aws:sagemaker:{moto_server.region}:{moto_server.account_id}:artifact/a",
            DestinationArn=f"arn:aws:sagemaker:{moto_server.region}:{moto_server.account_id}:context/c",
        )
    error = raised.value.response
    assert error["Error"]["Code"] == "NotImplemented"
    assert "AddAssociation" in error["Error"]["Message"] or "add_association" in error["Error"]["Message"]
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 501
    assert error["ResponseMetadata"]["RetryAttempts"] == 0
