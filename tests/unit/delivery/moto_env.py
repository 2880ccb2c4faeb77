"""A deployed Keel environment as the smoke check sees it, provisioned in in-process moto."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import boto3

from keel.config import EnvironmentConfig
from keel.contract import load_contract
from keel.delivery.checks.buckets import expected_algorithm
from keel.delivery.definition_check import expected_definition
from keel.naming import (
    BucketPurpose,
    KeyPurpose,
    bucket_name,
    key_alias,
    model_package_group_name,
    pipeline_name,
    trail_name,
)

IMAGE_URI = "111111111111.dkr.ecr.eu-west-1.amazonaws.com/cdk-hnb659fds-container-assets:abc123"


@dataclass
class MotoEnvironment:
    config: EnvironmentConfig
    key_arn: str
    definition: dict[str, Any]

    def client(self, service: str) -> Any:
        return boto3.client(service, region_name=self.config.region)

    def deploy_definition(self, definition: dict[str, Any]) -> None:
        self.client("sagemaker").update_pipeline(
            PipelineName=pipeline_name(self.config), PipelineDefinition=json.dumps(definition)
        )

    @contextmanager
    def deployed(self, definition: dict[str, Any]) -> Iterator[None]:
        """Deploy another definition for the duration of the block, then the healthy one again."""
        self.deploy_definition(definition)
        try:
            yield
        finally:
            self.deploy_definition(self.definition)


def provision(
    config: EnvironmentConfig, *, image_uri: str = IMAGE_URI, model_registry: bool = True
) -> MotoEnvironment:
    """Every resource the smoke checks read, healthy. Call inside `mock_aws()`.

    moto cannot delete a model package group, so a test that needs none asks for `model_registry=False`.
    """
    region = config.region
    # Only the artifacts key is looked up (by alias); the other resources just need some key ARN.
    kms = boto3.client("kms", region_name=region)
    key = kms.create_key(Description="artifacts")["KeyMetadata"]
    kms.create_alias(AliasName=key_alias(config, KeyPurpose.ARTIFACTS), TargetKeyId=key["KeyId"])
    s3 = boto3.client("s3", region_name=region)
    for purpose in BucketPurpose:
        name = bucket_name(config, purpose)
        s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": region})
        s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
        default: dict[str, str] = {"SSEAlgorithm": expected_algorithm(purpose)}
        if default["SSEAlgorithm"] == "aws:kms":
            default["KMSMasterKeyID"] = key["Arn"]
        s3.put_bucket_encryption(
            Bucket=name,
            ServerSideEncryptionConfiguration={"Rules": [{"ApplyServerSideEncryptionByDefault": default}]},
        )
    cloudtrail = boto3.client("cloudtrail", region_name=region)
    cloudtrail.create_trail(
        Name=trail_name(config),
        S3BucketName=bucket_name(config, BucketPurpose.TRAIL),
        EnableLogFileValidation=True,
        KmsKeyId=key["Arn"],
    )
    cloudtrail.start_logging(Name=trail_name(config))
    sagemaker = boto3.client("sagemaker", region_name=region)
    if model_registry:
        sagemaker.create_model_package_group(ModelPackageGroupName=model_package_group_name(config))
    definition = expected_definition(
        config, load_contract(config.contract), kms_key_arn=key["Arn"], image_uri=image_uri
    )
    sagemaker.create_pipeline(
        PipelineName=pipeline_name(config),
        PipelineDefinition=json.dumps(definition),
        RoleArn=f"arn:aws:iam::{config.account}:role/{config.prefix}-pipeline",
    )
    return MotoEnvironment(config=config, key_arn=key["Arn"], definition=definition)
