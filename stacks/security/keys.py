"""KMS keys by purpose, with rotation and key policies that name only the services that need them."""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from constructs import Construct

from keel.config import EnvironmentConfig
from keel.naming import KeyPurpose, key_alias, trail_name
from stacks.compliance import acknowledge_iam_lint

_DESCRIPTIONS = {
    KeyPurpose.DATA: "Keel data: raw, curated and feedback datasets, Glue catalog, streams",
    KeyPurpose.ARTIFACTS: "Keel artifacts: models, job volumes and outputs, reports",
    KeyPurpose.LOGS: "Keel logs and audit: CloudTrail, CloudWatch Logs, alerts, evidence",
}


class KeelKeys(Construct):
    """One customer-managed key per purpose. The account root keeps administration (the CDK default)."""

    def __init__(
        self, scope: Construct, construct_id: str, *, config: EnvironmentConfig, removal_policy: RemovalPolicy
    ) -> None:
        super().__init__(scope, construct_id)
        self.keys: dict[KeyPurpose, kms.Key] = {
            purpose: kms.Key(
                self,
                f"{purpose.value.capitalize()}Key",
                alias=key_alias(config, purpose),
                description=_DESCRIPTIONS[purpose],
                enable_key_rotation=True,
                rotation_period=Duration.days(365),
                pending_window=Duration.days(7 if removal_policy == RemovalPolicy.DESTROY else 30),
                removal_policy=removal_policy,
            )
            for purpose in KeyPurpose
        }
        stack = Stack.of(self)
        self._allow_cloudwatch_logs(stack)
        self._allow_cloudtrail(stack, config)
        self._allow_alert_publishers(stack)
        self._allow_macie(stack)

    @property
    def data(self) -> kms.Key:
        return self.keys[KeyPurpose.DATA]

    @property
    def artifacts(self) -> kms.Key:
        return self.keys[KeyPurpose.ARTIFACTS]

    @property
    def logs(self) -> kms.Key:
        return self.keys[KeyPurpose.LOGS]

    def _allow_cloudwatch_logs(self, stack: Stack) -> None:
        # CloudWatch Logs encrypts log groups of this account only (encryption-context condition).
        self.logs.add_to_resource_policy(
            iam.PolicyStatement(
                sid="AllowCloudWatchLogsOfThisAccount",
                principals=[iam.ServicePrincipal(f"logs.{stack.region}.amazonaws.com")],
                actions=[
                    "kms:Encrypt*",
                    "kms:Decrypt*",
                    "kms:ReEncrypt*",
                    "kms:GenerateDataKey*",
                    "kms:Describe*",
                ],
                resources=["*"],
                conditions={
                    "ArnLike": {
                        "kms:EncryptionContext:aws:logs:arn": (
                            f"arn:{stack.partition}:logs:{stack.region}:{stack.account}:log-group:*"
                        )
                    }
                },
            )
        )
        acknowledge_iam_lint(
            self.logs,
            "AWS's documented CloudWatch Logs key-policy statement: ArnLike on the aws:logs:arn encryption "
            "context (parliament types the key as String), and kms:Describe* under that condition, which "
            "DescribeKey requests (no encryption context) never meet; Logs does not need DescribeKey.",
            "MISMATCHED_TYPE[AllowCloudWatchLogsOfThisAccount]",
            "UNKNOWN_CONDITION_FOR_ACTION[kms:DescribeKey|kms:EncryptionContext:aws:logs:arn]",
        )

    def _allow_cloudtrail(self, stack: Stack, config: EnvironmentConfig) -> None:
        trail_arn = (
            f"arn:{stack.partition}:cloudtrail:{stack.region}:{stack.account}:trail/{trail_name(config)}"
        )
        self.logs.add_to_resource_policy(
            iam.PolicyStatement(
                sid="AllowCloudTrailToEncryptKeelTrail",
                principals=[iam.ServicePrincipal("cloudtrail.amazonaws.com")],
                actions=["kms:GenerateDataKey*"],
                resources=["*"],
                conditions={
                    "StringEquals": {"aws:SourceArn": trail_arn},
                    "StringLike": {
                        "kms:EncryptionContext:aws:cloudtrail:arn": (
                            f"arn:{stack.partition}:cloudtrail:*:{stack.account}:trail/*"
                        )
                    },
                },
            )
        )
        self.logs.add_to_resource_policy(
            iam.PolicyStatement(
                sid="AllowCloudTrailToDescribeKey",
                principals=[iam.ServicePrincipal("cloudtrail.amazonaws.com")],
                actions=["kms:DescribeKey"],
                resources=["*"],
                conditions={"StringEquals": {"aws:SourceArn": trail_arn}},
            )
        )

    def _allow_alert_publishers(self, stack: Stack) -> None:
        # EventBridge rules and CloudWatch alarms publish to the KMS-encrypted alert topic; SNS moves
        # undeliverable alerts to the encrypted dead-letter queue.
        self.logs.add_to_resource_policy(
            iam.PolicyStatement(
                sid="AllowAlertPublishersOfThisAccount",
                principals=[
                    iam.ServicePrincipal("events.amazonaws.com"),
                    iam.ServicePrincipal("sns.amazonaws.com"),
                    iam.ServicePrincipal("cloudwatch.amazonaws.com"),
                ],
                actions=["kms:Decrypt", "kms:GenerateDataKey*"],
                resources=["*"],
                conditions={"StringEquals": {"aws:SourceAccount": stack.account}},
            )
        )

    def _allow_macie(self, stack: Stack) -> None:
        # Macie's service-linked role must read encrypted objects to classify them. Named by condition, so
        # the policy is valid before Macie is enabled (a missing role principal would be rejected).
        slr_arn = (
            f"arn:{stack.partition}:iam::{stack.account}:role/aws-service-role/macie.amazonaws.com/"
            "AWSServiceRoleForAmazonMacie"
        )
        self.data.add_to_resource_policy(
            iam.PolicyStatement(
                sid="AllowMacieServiceLinkedRoleToDecrypt",
                principals=[iam.AccountRootPrincipal()],
                actions=["kms:Decrypt"],
                resources=["*"],
                conditions={"ArnEquals": {"aws:PrincipalArn": slr_arn}},
            )
        )
