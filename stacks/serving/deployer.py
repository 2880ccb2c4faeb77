"""The model deployer Lambda and the two EventBridge rules that drive it: approvals of Keel's model versions,
and state changes of Keel's endpoint."""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from constructs import Construct

from keel.config import EnvironmentConfig
from keel.monitoring.names import rollback_alarm_names
from keel.naming import BucketPurpose, bucket_name, endpoint_name, model_package_group_name, partition
from keel.serving.deploy import ENDPOINT_STATE_DETAIL_TYPE
from keel.serving.model_package import APPROVAL_DETAIL_TYPE, APPROVED
from keel.serving.names import DEPLOYMENTS_PREFIX, STATE_PREFIX, resource_prefix
from keel.serving.runtime import KMS_KEY_VARIABLE, DeployerSettings
from stacks.compliance import acknowledge
from stacks.constructs.python_function import PythonFunction
from stacks.monitoring.drift_check import DISTRIBUTIONS
from stacks.monitoring.function_alarms import FunctionAlarms
from stacks.serving.roles import deployer_statements

HANDLER = "model_deployer"


class ModelDeployer(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: EnvironmentConfig,
        settings: DeployerSettings,
        endpoint_role_arn: str,
        artifacts_key: kms.IKey,
        logs_key: kms.IKey,
        alert_topic: sns.ITopic,
        removal_policy: RemovalPolicy,
    ) -> None:
        super().__init__(scope, construct_id)
        self.lambda_ = PythonFunction(
            self,
            "Deployer",
            config=config,
            handler_name=HANDLER,
            description="Keel model deployer: approved versions to the endpoint with guardrails and rollback",
            logs_key=logs_key,
            removal_policy=removal_policy,
            # One at a time: a deployment in progress queues the next approval.
            reserved_concurrency=1,
            timeout_seconds=120,
            environment={**settings.to_environ(), KMS_KEY_VARIABLE: artifacts_key.key_arn},
            distributions=DISTRIBUTIONS,
        )
        role = self.lambda_.role
        for statement in deployer_statements(config, endpoint_role_arn=endpoint_role_arn):
            role.add_to_policy(statement)
        artifacts_key.grant_encrypt_decrypt(role)
        artifacts_key.grant(role, "kms:CreateGrant", "kms:DescribeKey")

        def target() -> targets.LambdaFunction:
            return targets.LambdaFunction(
                self.lambda_.function,
                dead_letter_queue=self.lambda_.dead_letter_queue,
                retry_attempts=8,
                max_event_age=Duration.hours(24),
            )

        self.approvals = events.Rule(
            self,
            "Approvals",
            description="Approved versions of Keel's model package group are deployed",
            event_pattern=events.EventPattern(
                source=["aws.sagemaker"],
                detail_type=[APPROVAL_DETAIL_TYPE],
                detail={
                    "ModelPackageGroupName": [model_package_group_name(config)],
                    "ModelApprovalStatus": [APPROVED],
                },
            ),
            targets=[target()],
        )
        self.endpoint_changes = events.Rule(
            self,
            "EndpointStateChanges",
            description="Keel's endpoint settled: record the outcome (succeeded, rolled back, failed)",
            event_pattern=events.EventPattern(
                source=["aws.sagemaker"],
                detail_type=[ENDPOINT_STATE_DETAIL_TYPE],
                detail={"EndpointName": [endpoint_name(config)]},
            ),
            targets=[target()],
        )
        self.alarms = FunctionAlarms(
            self,
            "Alarms",
            config=config,
            function=self.lambda_,
            short_name=HANDLER.replace("_", "-"),
            alert_topic=alert_topic,
        )
        p = partition(config)
        arn = f"arn:{p}:sagemaker:{config.region}:{config.account}"
        reports = f"arn:{p}:s3:::{bucket_name(config, BucketPurpose.REPORTS)}"
        names = resource_prefix(config)
        cloudwatch_arn = f"arn:{p}:cloudwatch:{config.region}:{config.account}:alarm:"
        acknowledge(
            role,
            "Models and endpoint configs are named per deployment under Keel's prefix; model-package "
            "versions of Keel's group; the endpoint's Auto Scaling target (its ARN has a generated id) and "
            "its target-tracking alarms; deployment records and state are keys below Keel's prefixes.",
            f"AwsSolutions-IAM5[Resource::{arn}:model-package/{model_package_group_name(config)}/*]",
            f"AwsSolutions-IAM5[Resource::{arn}:model/{names}*]",
            f"AwsSolutions-IAM5[Resource::{arn}:endpoint-config/{names}*]",
            f"AwsSolutions-IAM5[Resource::arn:{p}:application-autoscaling:{config.region}:{config.account}:"
            "scalable-target/*]",
            f"AwsSolutions-IAM5[Resource::{cloudwatch_arn}TargetTracking-endpoint/{endpoint_name(config)}/*]",
            f"AwsSolutions-IAM5[Resource::{reports}/{DEPLOYMENTS_PREFIX}*]",
            f"AwsSolutions-IAM5[Resource::{reports}/{STATE_PREFIX}{endpoint_name(config)}/*]",
            "AwsSolutions-IAM5[Action::kms:GenerateDataKey*]",
            "AwsSolutions-IAM5[Action::kms:ReEncrypt*]",
        )
        acknowledge(
            role,
            "Resource * only where the action has no resource-level permissions: Application Auto Scaling's "
            "DescribeScalableTargets and DescribeScalingPolicies (read-only) and X-Ray's trace writes.",
            "AwsSolutions-IAM5[Resource::*]",
        )
        assert rollback_alarm_names(config)  # the deployer refuses to update without them
