"""The ML stack: the training pipeline, its roles and step image, and the model registry."""

from __future__ import annotations

from aws_cdk import RemovalPolicy, Stack
from constructs import Construct

from keel.config import EnvironmentConfig
from keel.contract import DatasetContract
from keel.naming import BucketPurpose, bucket_name
from stacks.ml.image import StepImage
from stacks.ml.pipeline import ModelRegistry, TrainingPipeline
from stacks.ml.roles import PipelineRoles
from stacks.security.keys import KeelKeys


class MlStack(Stack):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: EnvironmentConfig,
        contract: DatasetContract,
        keys: KeelKeys,
        removal_policy: RemovalPolicy,
        **kwargs: object,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)  # type: ignore[arg-type]
        self.image = StepImage(self, "StepImage", config=config)
        self.roles = PipelineRoles(
            self,
            "Roles",
            config=config,
            artifacts_key=keys.artifacts,
            data_key=keys.data,
            read_buckets=[bucket_name(config, BucketPurpose.RAW)],
            write_buckets=[
                bucket_name(config, p)
                for p in (BucketPurpose.CURATED, BucketPurpose.ARTIFACTS, BucketPurpose.REPORTS)
            ],
            image_repository_arn=self.image.repository_arn,
        )
        self.registry = ModelRegistry(
            self, "Registry", config=config, contract=contract, removal_policy=removal_policy
        )
        self.pipeline = TrainingPipeline(
            self,
            "Training",
            config=config,
            contract=contract,
            pipeline_role=self.roles.pipeline_role,
            artifacts_key=keys.artifacts,
            image_uri=self.image.image_uri,
        )
        self.pipeline.node.add_dependency(self.registry)
