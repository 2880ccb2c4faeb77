"""The encrypted alert topic, and the EventBridge rules that route security events to it."""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from keel.config import EnvironmentConfig
from keel.naming import alert_topic_name
from stacks.compliance import acknowledge

# API calls that weaken Keel's security posture: changes to policies, keys, the trail, public access.
POLICY_CHANGE_EVENTS: dict[str, tuple[str, ...]] = {
    "aws.iam": (
        "AttachRolePolicy",
        "DetachRolePolicy",
        "PutRolePolicy",
        "DeleteRolePolicy",
        "CreatePolicyVersion",
        "SetDefaultPolicyVersion",
        "PutRolePermissionsBoundary",
        "DeleteRolePermissionsBoundary",
        "UpdateAssumeRolePolicy",
    ),
    "aws.s3": (
        "PutBucketPolicy",
        "DeleteBucketPolicy",
        "PutBucketAcl",
        "PutBucketPublicAccessBlock",
        "DeleteBucketPublicAccessBlock",
        "PutBucketEncryption",
        "DeleteBucketEncryption",
        "PutBucketVersioning",
        "PutObjectLockConfiguration",
    ),
    "aws.kms": ("PutKeyPolicy", "DisableKey", "ScheduleKeyDeletion", "DisableKeyRotation", "CreateGrant"),
    "aws.cloudtrail": ("StopLogging", "DeleteTrail", "UpdateTrail", "PutEventSelectors"),
    "aws.macie2": ("DisableMacie", "UpdateMacieSession", "UpdateClassificationJob"),
}


class SecurityAlerts(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: EnvironmentConfig,
        key: kms.IKey,
        removal_policy: RemovalPolicy,
    ) -> None:
        super().__init__(scope, construct_id)
        self.topic = sns.Topic(
            self,
            "AlertTopic",
            topic_name=alert_topic_name(config),
            display_name=f"Keel {config.name} alerts",
            master_key=key,
            enforce_ssl=True,
        )
        self.topic.apply_removal_policy(removal_policy)
        # Alerts that EventBridge or SNS cannot deliver are kept here, not dropped.
        self.dead_letter_queue = sqs.Queue(
            self,
            "AlertDeliveryDlq",
            encryption=sqs.QueueEncryption.KMS,
            encryption_master_key=key,
            enforce_ssl=True,
            retention_period=Duration.days(14),
            removal_policy=removal_policy,
        )
        for email in config.alert_emails:
            self.topic.add_subscription(
                subscriptions.EmailSubscription(email, dead_letter_queue=self.dead_letter_queue)
            )
        acknowledge(
            self.dead_letter_queue,
            "This queue is itself the dead-letter queue of the alert rules' SNS target.",
            "AwsSolutions-SQS3",
            "Serverless-SQSRedrivePolicy",
        )
        target = targets.SnsTopic(
            self.topic,
            dead_letter_queue=self.dead_letter_queue,
            retry_attempts=10,
            max_event_age=Duration.hours(24),
        )
        self.macie_findings_rule = events.Rule(
            self,
            "MacieFindings",
            description="Amazon Macie findings on Keel's data buckets go to the alert topic.",
            event_pattern=events.EventPattern(source=["aws.macie"], detail_type=["Macie Finding"]),
            targets=[target],
        )
        self.policy_change_rule = events.Rule(
            self,
            "PolicyChanges",
            description="CloudTrail-recorded changes to IAM, bucket, key, trail and Macie settings.",
            event_pattern=events.EventPattern(
                source=list(POLICY_CHANGE_EVENTS),
                detail_type=["AWS API Call via CloudTrail"],
                detail={
                    "eventName": sorted({name for names in POLICY_CHANGE_EVENTS.values() for name in names})
                },
            ),
            targets=[target],
        )
