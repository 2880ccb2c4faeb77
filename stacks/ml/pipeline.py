"""The SageMaker training pipeline resource and its model package group."""

from __future__ import annotations

import json

from aws_cdk import Fn, RemovalPolicy
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sagemaker as sagemaker
from constructs import Construct

from keel.config import EnvironmentConfig
from keel.contract import DatasetContract
from keel.naming import model_package_group_name, pipeline_name
from pipeline_steps.definition import SYNTH_PLACEHOLDERS
from stacks.ml.definition_cache import cached_pipeline_definition


def definition_body(config: EnvironmentConfig, contract: DatasetContract) -> str:
    """The definition JSON with `${...}` placeholders for the values that are tokens at synth time."""
    body = json.dumps(cached_pipeline_definition(config, contract), sort_keys=True)
    placeholders = set(SYNTH_PLACEHOLDERS.values())
    stray = {token for token in _dollar_braces(body) if token not in placeholders}
    if stray:  # Fn::Sub would try to resolve them
        raise ValueError(f"pipeline definition contains unexpected Fn::Sub variables: {sorted(stray)}")
    return body


def _dollar_braces(text: str) -> set[str]:
    import re

    return set(re.findall(r"\$\{[^}]*\}", text))


class ModelRegistry(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: EnvironmentConfig,
        contract: DatasetContract,
        removal_policy: RemovalPolicy,
    ) -> None:
        super().__init__(scope, construct_id)
        self.group_name = model_package_group_name(config)
        self.group = sagemaker.CfnModelPackageGroup(
            self,
            "Group",
            model_package_group_name=self.group_name,
            model_package_group_description=(
                f"Keel {config.name}: versions of the {contract.name} model; each version is gated by "
                "policy before approval"
            ),
        )
        self.group.apply_removal_policy(removal_policy)


class TrainingPipeline(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: EnvironmentConfig,
        contract: DatasetContract,
        pipeline_role: iam.IRole,
        artifacts_key: kms.IKey,
        image_uri: str,
    ) -> None:
        super().__init__(scope, construct_id)
        self.pipeline_name = pipeline_name(config)
        variables = {
            SYNTH_PLACEHOLDERS["kms_key_arn"][2:-1]: artifacts_key.key_arn,
            SYNTH_PLACEHOLDERS["image_uri"][2:-1]: image_uri,
        }
        self.pipeline = sagemaker.CfnPipeline(
            self,
            "Pipeline",
            pipeline_name=self.pipeline_name,
            pipeline_display_name=self.pipeline_name,
            pipeline_description=(
                f"Keel {config.name}: validate, preprocess, train, evaluate, measure drift and register "
                f"{contract.name} models that pass the quality gate"
            ),
            role_arn=pipeline_role.role_arn,
            pipeline_definition={
                "PipelineDefinitionBody": Fn.sub(definition_body(config, contract), variables)
            },
        )
