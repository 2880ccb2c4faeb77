"""An S3 bucket with Keel's baseline: KMS, versioning, TLS only, no public access, access logs, lifecycle."""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from constructs import Construct

from stacks.compliance import acknowledge


class SecureBucket(Construct):
    """A versioned, KMS-encrypted, TLS-only, private bucket that writes server access logs.

    EventBridge notifications are set on the L1 property rather than with `event_bridge_enabled`, which
    would add a custom resource (a Lambda that moto cannot run and that Keel does not need).
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        bucket_name: str,
        encryption_key: kms.IKey,
        access_logs_bucket: s3.IBucket,
        removal_policy: RemovalPolicy,
        noncurrent_version_days: int,
        infrequent_access_after_days: int | None = None,
        object_lock_governance_days: int | None = None,
        event_bridge_notifications: bool = False,
        replication_reason: str = (
            "Single-region platform: durability comes from versioning and Object Lock; cross-region "
            "replication is an account-level decision left to the operator."
        ),
    ) -> None:
        super().__init__(scope, construct_id)
        transitions = (
            [
                s3.Transition(
                    storage_class=s3.StorageClass.INFREQUENT_ACCESS,
                    transition_after=Duration.days(infrequent_access_after_days),
                )
            ]
            if infrequent_access_after_days
            else None
        )
        self.bucket = s3.Bucket(
            self,
            "Bucket",
            bucket_name=bucket_name,
            encryption=s3.BucketEncryption.KMS,
            encryption_key=encryption_key,
            bucket_key_enabled=True,
            versioned=True,
            enforce_ssl=True,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            server_access_logs_bucket=access_logs_bucket,
            server_access_logs_prefix=f"{bucket_name}/",
            object_lock_enabled=object_lock_governance_days is not None or None,
            object_lock_default_retention=(
                s3.ObjectLockRetention.governance(Duration.days(object_lock_governance_days))
                if object_lock_governance_days is not None
                else None
            ),
            lifecycle_rules=[
                s3.LifecycleRule(
                    id="baseline",
                    abort_incomplete_multipart_upload_after=Duration.days(7),
                    noncurrent_version_expiration=Duration.days(noncurrent_version_days),
                    transitions=transitions,
                )
            ],
            removal_policy=removal_policy,
            # Where the environment says destroy, empty the bucket on delete (else `cdk destroy` fails on a
            # non-empty bucket). Never for Object Lock buckets: their retention is the point.
        )
        if event_bridge_notifications:
            cfn_bucket = self.bucket.node.default_child
            assert isinstance(cfn_bucket, s3.CfnBucket)
            cfn_bucket.notification_configuration = s3.CfnBucket.NotificationConfigurationProperty(
                event_bridge_configuration=s3.CfnBucket.EventBridgeConfigurationProperty(
                    event_bridge_enabled=True
                )
            )
        acknowledge(
            self.bucket,
            replication_reason,
            "NIST.800.53.R5-S3BucketReplicationEnabled",
            "HIPAA.Security-S3BucketReplicationEnabled",
        )


class AccessLogsBucket(Construct):
    """The target of S3 server access logs.

    S3 log delivery cannot write to SSE-KMS buckets, so this one uses SSE-S3. It does not log itself (cdk-nag
    recognises a log-target bucket, so no acknowledgment is needed for that).
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        bucket_name: str,
        expire_after_days: int,
    ) -> None:
        super().__init__(scope, construct_id)
        self.bucket = s3.Bucket(
            self,
            "Bucket",
            bucket_name=bucket_name,
            encryption=s3.BucketEncryption.S3_MANAGED,
            versioned=True,
            enforce_ssl=True,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            lifecycle_rules=[
                s3.LifecycleRule(
                    id="expire-access-logs",
                    expiration=Duration.days(expire_after_days),
                    noncurrent_version_expiration=Duration.days(1),
                    abort_incomplete_multipart_upload_after=Duration.days(1),
                )
            ],
            # Access logs are audit records: kept when the stack is destroyed, in every environment (the
            # logs of the destroy itself would also refill an emptied bucket before it could be deleted).
            removal_policy=RemovalPolicy.RETAIN,
        )
        acknowledge(
            self.bucket,
            "S3 server access log delivery does not support SSE-KMS targets; SSE-S3 encrypts at rest.",
            "HIPAA.Security-S3DefaultEncryptionKMS",
            "NIST.800.53.R5-S3DefaultEncryptionKMS",
        )
        acknowledge(
            self.bucket,
            "Access logs are short-lived operational records; replicating them adds cost without value.",
            "NIST.800.53.R5-S3BucketReplicationEnabled",
            "HIPAA.Security-S3BucketReplicationEnabled",
        )
