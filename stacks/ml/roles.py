"""The pipeline's two roles: one that orchestrates (creates jobs, registers models) and one that the jobs
run as (reads inputs, writes outputs). Explicit denies make an unencrypted or non-isolated job impossible,
whatever else is granted later."""

from __future__ import annotations

from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from constructs import Construct

from keel.config import EnvironmentConfig
from keel.naming import job_role_name, model_package_group_name, partition, pipeline_name, pipeline_role_name
from stacks.compliance import acknowledge

JOB_CREATE_ACTIONS = ("sagemaker:CreateProcessingJob", "sagemaker:CreateTrainingJob")


def compliant_job_denies(*, require_vpc: bool) -> list[iam.PolicyStatement]:
    """Deny creating a job that lacks KMS keys, network isolation or inter-container encryption."""
    actions = list(JOB_CREATE_ACTIONS)
    statements = [
        iam.PolicyStatement(
            sid=sid, effect=iam.Effect.DENY, actions=actions, resources=["*"], conditions=conditions
        )
        for sid, conditions in (
            ("DenyJobsWithoutVolumeKey", {"Null": {"sagemaker:VolumeKmsKey": "true"}}),
            ("DenyJobsWithoutOutputKey", {"Null": {"sagemaker:OutputKmsKey": "true"}}),
            ("DenyJobsWithoutNetworkIsolation", {"Bool": {"sagemaker:NetworkIsolation": "false"}}),
            ("DenyJobsWithNetworkIsolationUnset", {"Null": {"sagemaker:NetworkIsolation": "true"}}),
            (
                "DenyJobsWithoutTrafficEncryption",
                {"Bool": {"sagemaker:InterContainerTrafficEncryption": "false"}},
            ),
            (
                "DenyJobsWithTrafficEncryptionUnset",
                {"Null": {"sagemaker:InterContainerTrafficEncryption": "true"}},
            ),
        )
    ]
    if require_vpc:
        statements.append(
            iam.PolicyStatement(
                sid="DenyJobsOutsideVpc",
                effect=iam.Effect.DENY,
                actions=actions,
                resources=["*"],
                conditions={"Null": {"sagemaker:VpcSubnets": "true"}},
            )
        )
    return statements


class PipelineRoles(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: EnvironmentConfig,
        artifacts_key: kms.IKey,
        data_key: kms.IKey,
        read_buckets: list[str],
        write_buckets: list[str],
        image_repository_arn: str | None,
    ) -> None:
        super().__init__(scope, construct_id)
        sagemaker_principal = iam.ServicePrincipal(
            "sagemaker.amazonaws.com", conditions={"StringEquals": {"aws:SourceAccount": config.account}}
        )
        arn_prefix = f"arn:{partition(config)}:sagemaker:{config.region}:{config.account}"

        self.job_role = iam.Role(
            self,
            "JobRole",
            role_name=job_role_name(config),
            assumed_by=sagemaker_principal,
            description="Keel pipeline jobs: read inputs, write outputs, encrypted with Keel keys",
        )

        # Explicit actions on named buckets (not the CDK's s3:GetObject*/List*/DeleteObject* grants): jobs
        # read their inputs and write new objects; they never delete.
        def bucket_arns(names: list[str], objects: bool) -> list[str]:
            return [f"arn:{partition(config)}:s3:::{name}{'/*' if objects else ''}" for name in names]

        self.job_role.add_to_policy(
            iam.PolicyStatement(
                sid="ListJobBuckets",
                actions=["s3:ListBucket", "s3:GetBucketLocation"],
                resources=bucket_arns([*read_buckets, *write_buckets], objects=False),
            )
        )
        self.job_role.add_to_policy(
            iam.PolicyStatement(
                sid="ReadJobInputs",
                actions=["s3:GetObject", "s3:GetObjectVersion"],
                resources=bucket_arns([*read_buckets, *write_buckets], objects=True),
            )
        )
        self.job_role.add_to_policy(
            iam.PolicyStatement(
                sid="WriteJobOutputs",
                actions=["s3:PutObject", "s3:AbortMultipartUpload"],
                resources=bucket_arns(write_buckets, objects=True),
            )
        )
        self.job_role.add_to_policy(
            iam.PolicyStatement(
                sid="UseKeelKeys",
                actions=["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey", "kms:DescribeKey"],
                resources=[artifacts_key.key_arn, data_key.key_arn],
            )
        )
        self.job_role.add_to_policy(
            iam.PolicyStatement(
                sid="WriteJobLogs",
                actions=["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
                resources=[
                    f"arn:{partition(config)}:logs:{config.region}:{config.account}:log-group:"
                    "/aws/sagemaker/*"
                ],
            )
        )
        self.job_role.add_to_policy(
            iam.PolicyStatement(
                sid="PublishJobMetrics",
                actions=["cloudwatch:PutMetricData"],
                resources=["*"],
                conditions={"StringLike": {"cloudwatch:namespace": ["/aws/sagemaker/*", "Keel*"]}},
            )
        )
        if image_repository_arn:
            self.job_role.add_to_policy(
                iam.PolicyStatement(
                    sid="PullStepImage",
                    actions=["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"],
                    resources=[image_repository_arn],
                )
            )
            self.job_role.add_to_policy(
                iam.PolicyStatement(sid="EcrToken", actions=["ecr:GetAuthorizationToken"], resources=["*"])
            )

        self.pipeline_role = iam.Role(
            self,
            "PipelineRole",
            role_name=pipeline_role_name(config),
            assumed_by=sagemaker_principal,
            description="Keel training pipeline: creates its jobs and registers models",
        )
        self.pipeline_role.add_to_policy(
            iam.PolicyStatement(
                sid="RunPipelineJobs",
                actions=[
                    *JOB_CREATE_ACTIONS,
                    "sagemaker:DescribeProcessingJob",
                    "sagemaker:DescribeTrainingJob",
                    "sagemaker:StopProcessingJob",
                    "sagemaker:StopTrainingJob",
                    "sagemaker:AddTags",
                ],
                resources=[f"{arn_prefix}:processing-job/*", f"{arn_prefix}:training-job/*"],
            )
        )
        self.pipeline_role.add_to_policy(
            iam.PolicyStatement(
                sid="RegisterModels",
                actions=[
                    "sagemaker:CreateModelPackage",
                    "sagemaker:DescribeModelPackage",
                    "sagemaker:AddTags",
                ],
                resources=[
                    f"{arn_prefix}:model-package-group/{model_package_group_name(config)}",
                    f"{arn_prefix}:model-package/{model_package_group_name(config)}/*",
                ],
            )
        )
        self.pipeline_role.add_to_policy(
            iam.PolicyStatement(
                sid="RecordExperiments",
                actions=[
                    "sagemaker:CreateExperiment",
                    "sagemaker:CreateTrial",
                    "sagemaker:CreateTrialComponent",
                    "sagemaker:AssociateTrialComponent",
                    "sagemaker:DescribeExperiment",
                    "sagemaker:DescribeTrial",
                    "sagemaker:UpdateTrialComponent",
                    "sagemaker:AddTags",
                ],
                resources=[
                    f"{arn_prefix}:experiment/{pipeline_name(config)}*",
                    f"{arn_prefix}:experiment-trial/*",
                    f"{arn_prefix}:experiment-trial-component/*",
                ],
            )
        )
        self.job_role.grant_pass_role(self.pipeline_role)
        for statement in compliant_job_denies(require_vpc=config.security.vpc is not None):
            self.pipeline_role.add_to_policy(statement)
        artifacts_key.grant(self.pipeline_role, "kms:CreateGrant", "kms:DescribeKey")

        acknowledge(
            self.pipeline_role,
            "Job, model-package and trial names are generated per execution by SageMaker; the ARNs are "
            "scoped to this account, region and Keel's pipeline.",
            f"AwsSolutions-IAM5[Resource::{arn_prefix}:processing-job/*]",
            f"AwsSolutions-IAM5[Resource::{arn_prefix}:training-job/*]",
            f"AwsSolutions-IAM5[Resource::{arn_prefix}:model-package/{model_package_group_name(config)}/*]",
            f"AwsSolutions-IAM5[Resource::{arn_prefix}:experiment/{pipeline_name(config)}*]",
            f"AwsSolutions-IAM5[Resource::{arn_prefix}:experiment-trial/*]",
            f"AwsSolutions-IAM5[Resource::{arn_prefix}:experiment-trial-component/*]",
        )
        acknowledge(
            self.job_role,
            "Objects of Keel's named pipeline buckets, and SageMaker's per-job log groups under "
            "/aws/sagemaker/; PutMetricData has no resource-level permissions (limited by a namespace "
            "condition) and ecr:GetAuthorizationToken is account-wide by design.",
            "AwsSolutions-IAM5[Resource::*]",
            f"AwsSolutions-IAM5[Resource::arn:{partition(config)}:logs:{config.region}:{config.account}:"
            "log-group:/aws/sagemaker/*]",
            *(
                f"AwsSolutions-IAM5[Resource::arn:{partition(config)}:s3:::{name}/*]"
                for name in dict.fromkeys([*read_buckets, *write_buckets])
            ),
        )
        for role in (self.pipeline_role, self.job_role):
            acknowledge(
                role,
                "Inline policies come from the CDK's least-privilege grants and Keel's scoped statements.",
                "HIPAA.Security-IAMNoInlinePolicy",
                "NIST.800.53.R5-IAMNoInlinePolicy",
            )
