"""The endpoint's execution role (what SageMaker runs Keel's models as) and the deployer's permissions.

Both are scoped by name: the models' data in the artifacts bucket, the capture prefix of the reports bucket,
the step image's repository, and the models, endpoint configs and endpoint the deployer names.
"""

from __future__ import annotations

from aws_cdk import DefaultStackSynthesizer
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from constructs import Construct

from keel.config import EnvironmentConfig
from keel.monitoring.names import rollback_alarm_names
from keel.naming import (
    BucketPurpose,
    bucket_name,
    endpoint_name,
    model_package_group_name,
    partition,
    pipeline_name,
)
from keel.serving.names import CAPTURE_PREFIX, DEPLOYMENTS_PREFIX, STATE_PREFIX, resource_prefix
from keel.serving.runtime import endpoint_role_name
from stacks.compliance import acknowledge


def step_image_repository_arn(config: EnvironmentConfig) -> str:
    """The repository of the image models run in: the configured one, else the CDK bootstrap's asset
    repository (where the ML stack's step image asset is published)."""
    if config.training.image_uri:
        host, _, path = config.training.image_uri.partition("/")
        account, region = host.split(".")[0], host.split(".")[3]
        repository = path.split("@")[0].split(":")[0]
        return f"arn:{partition(config)}:ecr:{region}:{account}:repository/{repository}"
    qualifier = DefaultStackSynthesizer.DEFAULT_QUALIFIER
    return (
        f"arn:{partition(config)}:ecr:{config.region}:{config.account}:repository/"
        f"cdk-{qualifier}-container-assets-{config.account}-{config.region}"
    )


class EndpointRole(Construct):
    def __init__(
        self, scope: Construct, construct_id: str, *, config: EnvironmentConfig, artifacts_key: kms.IKey
    ) -> None:
        super().__init__(scope, construct_id)
        p = partition(config)
        artifacts = bucket_name(config, BucketPurpose.ARTIFACTS)
        reports = bucket_name(config, BucketPurpose.REPORTS)
        models = f"arn:{p}:s3:::{artifacts}/pipeline/{pipeline_name(config)}/models/*"
        capture = f"arn:{p}:s3:::{reports}/{CAPTURE_PREFIX}*"
        log_groups = f"arn:{p}:logs:{config.region}:{config.account}:log-group"
        logs = f"{log_groups}:/aws/sagemaker/Endpoints/{endpoint_name(config)}"
        self.role = iam.Role(
            self,
            "Role",
            role_name=endpoint_role_name(config),
            assumed_by=iam.ServicePrincipal(
                "sagemaker.amazonaws.com", conditions={"StringEquals": {"aws:SourceAccount": config.account}}
            ),
            description="Keel endpoint: runs approved models, reads their artifacts, writes data capture",
        )
        for statement in (
            iam.PolicyStatement(sid="ReadModelArtifacts", actions=["s3:GetObject"], resources=[models]),
            iam.PolicyStatement(sid="WriteDataCapture", actions=["s3:PutObject"], resources=[capture]),
            iam.PolicyStatement(
                sid="PullStepImage",
                actions=[
                    "ecr:BatchGetImage",
                    "ecr:GetDownloadUrlForLayer",
                    "ecr:BatchCheckLayerAvailability",
                ],
                resources=[step_image_repository_arn(config)],
            ),
            iam.PolicyStatement(sid="EcrToken", actions=["ecr:GetAuthorizationToken"], resources=["*"]),
            iam.PolicyStatement(
                sid="WriteEndpointLogs",
                actions=[
                    "logs:CreateLogGroup",
                    "logs:CreateLogStream",
                    "logs:PutLogEvents",
                    "logs:DescribeLogStreams",
                ],
                resources=[logs, f"{logs}:*"],
            ),
            iam.PolicyStatement(
                sid="PublishEndpointMetrics",
                actions=["cloudwatch:PutMetricData"],
                resources=["*"],
                conditions={"StringLike": {"cloudwatch:namespace": "/aws/sagemaker/Endpoints*"}},
            ),
        ):
            self.role.add_to_policy(statement)
        artifacts_key.grant(self.role, "kms:Decrypt", "kms:GenerateDataKey", "kms:Encrypt", "kms:DescribeKey")
        acknowledge(
            self.role,
            "Objects below Keel's model-artifact and data-capture prefixes (per-job and per-hour keys); the "
            "endpoint's own log streams; PutMetricData (namespace-conditioned) and ecr:GetAuthorizationToken "
            "have no resource-level permissions.",
            f"AwsSolutions-IAM5[Resource::{models}]",
            f"AwsSolutions-IAM5[Resource::{capture}]",
            f"AwsSolutions-IAM5[Resource::{logs}:*]",
            "AwsSolutions-IAM5[Resource::*]",
        )
        acknowledge(
            self.role,
            "Inline policy of Keel's scoped statements and the CDK's key grant.",
            "HIPAA.Security-IAMNoInlinePolicy",
            "NIST.800.53.R5-IAMNoInlinePolicy",
        )


def deployer_statements(config: EnvironmentConfig, *, endpoint_role_arn: str) -> list[iam.PolicyStatement]:
    """What the deployer may do: describe approved versions, create Keel-named models and endpoint configs
    (network-isolated, KMS-encrypted: enforced by explicit denies), create/update Keel's endpoint, manage its
    autoscaling, read the rollback alarms, write deployment lineage and its state."""
    p = partition(config)
    arn = f"arn:{p}:sagemaker:{config.region}:{config.account}"
    names = resource_prefix(config)
    reports = f"arn:{p}:s3:::{bucket_name(config, BucketPurpose.REPORTS)}"
    endpoint = endpoint_name(config)
    cloudwatch_arn = f"arn:{p}:cloudwatch:{config.region}:{config.account}:alarm:"
    return [
        iam.PolicyStatement(
            sid="ReadApprovedVersions",
            actions=["sagemaker:DescribeModelPackage"],
            resources=[f"{arn}:model-package/{model_package_group_name(config)}/*"],
        ),
        iam.PolicyStatement(
            sid="CreateModelsAndConfigs",
            actions=[
                "sagemaker:CreateModel",
                "sagemaker:DescribeModel",
                "sagemaker:CreateEndpointConfig",
                "sagemaker:DescribeEndpointConfig",
                "sagemaker:AddTags",
                "sagemaker:ListTags",
            ],
            resources=[f"{arn}:model/{names}*", f"{arn}:endpoint-config/{names}*"],
        ),
        iam.PolicyStatement(
            sid="DeployEndpoint",
            actions=[
                "sagemaker:CreateEndpoint",
                "sagemaker:UpdateEndpoint",
                "sagemaker:DescribeEndpoint",
                "sagemaker:UpdateEndpointWeightsAndCapacities",
                "sagemaker:AddTags",
                "sagemaker:ListTags",
            ],
            resources=[f"{arn}:endpoint/{endpoint}", f"{arn}:endpoint-config/{names}*"],
        ),
        iam.PolicyStatement(
            sid="DenyModelsWithoutNetworkIsolation",
            effect=iam.Effect.DENY,
            actions=["sagemaker:CreateModel"],
            resources=["*"],
            conditions={"Bool": {"sagemaker:NetworkIsolation": "false"}},
        ),
        iam.PolicyStatement(
            sid="DenyModelsWithNetworkIsolationUnset",
            effect=iam.Effect.DENY,
            actions=["sagemaker:CreateModel"],
            resources=["*"],
            conditions={"Null": {"sagemaker:NetworkIsolation": "true"}},
        ),
        iam.PolicyStatement(
            sid="DenyEndpointConfigsWithoutKey",
            effect=iam.Effect.DENY,
            actions=["sagemaker:CreateEndpointConfig"],
            resources=["*"],
            conditions={"Null": {"sagemaker:VolumeKmsKey": "true"}},
        ),
        iam.PolicyStatement(
            sid="PassEndpointRole",
            actions=["iam:PassRole"],
            resources=[endpoint_role_arn],
            conditions={"StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}},
        ),
        iam.PolicyStatement(
            sid="ManageEndpointAutoscaling",
            actions=[
                "application-autoscaling:RegisterScalableTarget",
                "application-autoscaling:DeregisterScalableTarget",
                "application-autoscaling:PutScalingPolicy",
                "application-autoscaling:DeleteScalingPolicy",
            ],
            resources=[f"arn:{p}:application-autoscaling:{config.region}:{config.account}:scalable-target/*"],
        ),
        # The Describe actions accept only Resource "*": scoped to scalable-target/* AWS denies them.
        iam.PolicyStatement(
            sid="DescribeEndpointAutoscaling",
            actions=[
                "application-autoscaling:DescribeScalableTargets",
                "application-autoscaling:DescribeScalingPolicies",
            ],
            resources=["*"],
        ),
        iam.PolicyStatement(
            sid="AutoscalingServiceLinkedRole",
            actions=["iam:CreateServiceLinkedRole"],
            resources=[
                f"arn:{p}:iam::{config.account}:role/aws-service-role/"
                "sagemaker.application-autoscaling.amazonaws.com/AWSServiceRoleForApplicationAutoScaling_"
                "SageMakerEndpoint"
            ],
            conditions={
                "StringLike": {"iam:AWSServiceName": "sagemaker.application-autoscaling.amazonaws.com"}
            },
        ),
        iam.PolicyStatement(
            sid="TargetTrackingAlarms",
            actions=["cloudwatch:PutMetricAlarm", "cloudwatch:DeleteAlarms", "cloudwatch:DescribeAlarms"],
            resources=[f"{cloudwatch_arn}TargetTracking-endpoint/{endpoint}/*"],
        ),
        iam.PolicyStatement(
            sid="ReadRollbackAlarms",
            actions=["cloudwatch:DescribeAlarms"],
            resources=[f"{cloudwatch_arn}{name}" for name in rollback_alarm_names(config)],
        ),
        iam.PolicyStatement(
            sid="WriteDeploymentLineage",
            actions=["s3:PutObject"],
            resources=[f"{reports}/{DEPLOYMENTS_PREFIX}*"],
        ),
        iam.PolicyStatement(
            sid="KeepDeployerState",
            actions=["s3:GetObject", "s3:PutObject", "s3:DeleteObject"],
            resources=[f"{reports}/{STATE_PREFIX}{endpoint}/*"],
        ),
        iam.PolicyStatement(
            sid="ListDeployerState",
            actions=["s3:ListBucket"],
            resources=[reports],
            conditions={"StringLike": {"s3:prefix": [f"{STATE_PREFIX}{endpoint}/*"]}},
        ),
    ]
