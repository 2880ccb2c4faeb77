"""Amazon Macie: the account session, and a scheduled classification job over Keel's data buckets."""

from __future__ import annotations

from aws_cdk import CustomResource, RemovalPolicy, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_macie as macie
from constructs import Construct

from keel.config import EnvironmentConfig
from keel.naming import MACIE_BUCKETS, bucket_name, macie_job_name, partition
from lambdas.macie_job_provider.provider import RESOURCE_TYPE
from stacks.compliance import acknowledge
from stacks.constructs.python_function import PythonFunction


class MacieSession(Construct):
    """Enables Macie in the account and region (skip with `security.macie_enabled: false` where it is
    already enabled by the organisation: a second session cannot be created)."""

    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)
        self.session = macie.CfnSession(
            self, "Session", status="ENABLED", finding_publishing_frequency="FIFTEEN_MINUTES"
        )


class MacieClassificationJob(Construct):
    """A scheduled sensitive-data discovery job on the raw and feedback buckets.

    There is no CloudFormation type for Macie jobs: a Python provider (lambdas/macie_job_provider) creates
    it, so the local AWS can run the same provider in-process.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: EnvironmentConfig,
        logs_key: kms.IKey,
        removal_policy: RemovalPolicy,
    ) -> None:
        super().__init__(scope, construct_id)
        stack = Stack.of(self)
        self.provider = PythonFunction(
            self,
            "Provider",
            config=config,
            handler_name="macie_job_provider",
            description="CloudFormation provider of Keel's Macie classification job",
            logs_key=logs_key,
            removal_policy=removal_policy,
            reserved_concurrency=1,
        )
        job_arns = f"arn:{partition(config)}:macie2:{config.region}:{config.account}:classification-job/*"
        self.provider.role.add_to_policy(
            iam.PolicyStatement(
                sid="ManageClassificationJobs",
                actions=[
                    "macie2:CreateClassificationJob",
                    "macie2:UpdateClassificationJob",
                    "macie2:DescribeClassificationJob",
                    "macie2:TagResource",
                ],
                resources=[job_arns],
            )
        )
        acknowledge(
            self.provider.role,
            "Job ids are assigned by Macie at creation, so the job ARN can only be scoped to this "
            "account's classification jobs.",
            f"AwsSolutions-IAM5[Resource::arn:{partition(config)}:macie2:{config.region}:{config.account}:"
            "classification-job/*]",
        )
        self.job = CustomResource(
            self,
            "Job",
            service_token=self.provider.function.function_arn,
            resource_type=RESOURCE_TYPE,
            removal_policy=RemovalPolicy.DESTROY,
            properties={
                "JobName": macie_job_name(config),
                "AccountId": stack.account,
                "BucketNames": [bucket_name(config, purpose) for purpose in MACIE_BUCKETS],
                "Frequency": config.security.macie_job_frequency,
                "Description": f"Keel {config.name}: sensitive data discovery on raw and feedback data",
                "Tags": config.tags,
            },
        )
