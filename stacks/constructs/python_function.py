"""A Keel Lambda function: thin Python handler with the compliance baseline built in.

Own role (no AWS managed policies), KMS-encrypted log group with retention, a KMS-encrypted dead-letter
queue for asynchronous invocations, reserved concurrency, active tracing, optional VPC from config.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from keel.config import EnvironmentConfig
from keel.naming import lambda_function_name
from stacks.compliance import acknowledge
from stacks.constructs.lambda_bundle import lambda_code
from stacks.constructs.retention import log_retention

# The bundle copies third-party packages (pydantic-core has native code) from this Python 3.11 environment,
# so the function runs the same Python; the newer-runtime findings are acknowledged below for that reason.
RUNTIME = lambda_.Runtime.PYTHON_3_11
POWERTOOLS_NAMESPACE = "Keel"


class PythonFunction(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: EnvironmentConfig,
        handler_name: str,
        description: str,
        logs_key: kms.IKey,
        removal_policy: RemovalPolicy,
        reserved_concurrency: int,
        timeout_seconds: int = 60,
        environment: Mapping[str, str] | None = None,
        distributions: Sequence[str] = (),
    ) -> None:
        super().__init__(scope, construct_id)
        function_name = lambda_function_name(config, handler_name)
        self.log_group = logs.LogGroup(
            self,
            "LogGroup",
            log_group_name=f"/aws/lambda/{function_name}",
            encryption_key=logs_key,
            retention=log_retention(config.retention.log_days),
            removal_policy=removal_policy,
        )
        self.role = iam.Role(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description=f"Execution role of {function_name}",
        )
        self.log_group.grant_write(self.role)
        self.dead_letter_queue = sqs.Queue(
            self,
            "Dlq",
            encryption=sqs.QueueEncryption.KMS,
            encryption_master_key=logs_key,
            enforce_ssl=True,
            retention_period=Duration.days(14),
            removal_policy=removal_policy,
        )
        vpc_props = self._vpc_props(config)
        self.function = lambda_.Function(
            self,
            "Function",
            function_name=function_name,
            description=description,
            runtime=RUNTIME,
            # x86_64: the bundle copies third-party packages (some with native code, e.g. pydantic-core)
            # from this x86_64 environment, so the function must run on the same architecture.
            architecture=lambda_.Architecture.X86_64,
            handler=f"lambdas.{handler_name}.handler.lambda_handler",
            code=lambda_code(self, handler_name, distributions=distributions),
            role=self.role,
            log_group=self.log_group,
            memory_size=config.sizes.lambda_memory_mb,
            timeout=Duration.seconds(timeout_seconds),
            reserved_concurrent_executions=reserved_concurrency,
            tracing=lambda_.Tracing.ACTIVE,
            dead_letter_queue=self.dead_letter_queue,
            environment_encryption=logs_key,
            environment={
                "KEEL_ENV": config.name,
                "POWERTOOLS_SERVICE_NAME": handler_name,
                "POWERTOOLS_METRICS_NAMESPACE": POWERTOOLS_NAMESPACE,
                "LOG_LEVEL": "INFO",
                **(environment or {}),
            },
            **vpc_props,
        )
        acknowledge(
            self.role,
            "X-Ray PutTraceSegments/PutTelemetryRecords have no resource-level permissions.",
            "AwsSolutions-IAM5[Resource::*]",
        )
        acknowledge(
            self.role,
            "Inline policies come from the CDK's least-privilege grant methods, scoped to this function.",
            "HIPAA.Security-IAMNoInlinePolicy",
            "NIST.800.53.R5-IAMNoInlinePolicy",
        )
        acknowledge(
            self.dead_letter_queue,
            "This queue is itself the dead-letter queue of the function's asynchronous invocations.",
            "Serverless-SQSRedrivePolicy",
        )
        acknowledge(
            self.function,
            "The bundle carries native wheels built for Python 3.11 (the project's pinned interpreter); "
            "the runtime must match them until the bundle is built per runtime.",
            "AwsSolutions-L1",
            "Serverless-LambdaLatestVersion",
        )
        if not vpc_props:
            acknowledge(
                self.function,
                "No VPC configured for this environment (security.vpc); the function only calls AWS APIs "
                "over TLS with IAM authentication.",
                "HIPAA.Security-LambdaInsideVPC",
                "NIST.800.53.R5-LambdaInsideVPC",
            )

    def _vpc_props(self, config: EnvironmentConfig) -> dict[str, object]:
        vpc_config = config.security.vpc
        if vpc_config is None:
            return {}
        vpc = ec2.Vpc.from_vpc_attributes(
            self, "Vpc", vpc_id=vpc_config.vpc_id, availability_zones=list(vpc_config.availability_zones)
        )
        self.role.add_to_policy(
            iam.PolicyStatement(
                sid="ManageVpcNetworkInterfaces",
                actions=[
                    "ec2:CreateNetworkInterface",
                    "ec2:DescribeNetworkInterfaces",
                    "ec2:DeleteNetworkInterface",
                    "ec2:AssignPrivateIpAddresses",
                    "ec2:UnassignPrivateIpAddresses",
                ],
                resources=["*"],
            )
        )
        return {
            "vpc": vpc,
            "vpc_subnets": ec2.SubnetSelection(
                subnets=[
                    ec2.Subnet.from_subnet_id(self, f"Subnet{i}", s)
                    for i, s in enumerate(vpc_config.subnet_ids)
                ]
            ),
            "security_groups": [
                ec2.SecurityGroup.from_security_group_id(self, f"Sg{i}", sg)
                for i, sg in enumerate(vpc_config.security_group_ids)
            ],
        }
