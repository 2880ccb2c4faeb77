"""CloudTrail: multi-region, validated, KMS-encrypted, with S3 data events on Keel's data buckets."""

from __future__ import annotations

from aws_cdk import RemovalPolicy
from aws_cdk import aws_cloudtrail as cloudtrail
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from constructs import Construct

from keel.config import EnvironmentConfig
from keel.naming import DATA_EVENT_BUCKETS, BucketPurpose, bucket_name, trail_name
from stacks.compliance import acknowledge
from stacks.constructs.retention import log_retention
from stacks.constructs.secure_bucket import SecureBucket


class AuditTrail(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: EnvironmentConfig,
        key: kms.IKey,
        access_logs_bucket: s3.IBucket,
        removal_policy: RemovalPolicy,
    ) -> None:
        super().__init__(scope, construct_id)
        self.bucket = SecureBucket(
            self,
            "TrailBucket",
            bucket_name=bucket_name(config, BucketPurpose.TRAIL),
            encryption_key=key,
            access_logs_bucket=access_logs_bucket,
            removal_policy=removal_policy,
            noncurrent_version_days=config.retention.noncurrent_version_days,
            infrequent_access_after_days=config.retention.infrequent_access_after_days,
        ).bucket
        self.log_group = logs.LogGroup(
            self,
            "TrailLogGroup",
            log_group_name=f"/keel/{config.name}/cloudtrail",
            encryption_key=key,
            retention=log_retention(config.retention.log_days),
            removal_policy=removal_policy,
        )
        self.trail = cloudtrail.Trail(
            self,
            "Trail",
            trail_name=trail_name(config),
            bucket=self.bucket,
            encryption_key=key,
            enable_file_validation=True,
            is_multi_region_trail=config.security.trail_multi_region,
            include_global_service_events=True,
            management_events=cloudtrail.ReadWriteType.ALL,
            send_to_cloud_watch_logs=True,
            cloud_watch_log_group=self.log_group,
        )
        acknowledge(
            self.trail,
            "The trail's CloudWatch Logs role gets a CDK-generated inline policy scoped to its log group.",
            "HIPAA.Security-IAMNoInlinePolicy",
            "NIST.800.53.R5-IAMNoInlinePolicy",
        )
        # Data buckets are named deterministically, so the trail can select them without a cross-stack cycle.
        self.trail.add_s3_event_selector(
            [
                cloudtrail.S3EventSelector(
                    bucket=s3.Bucket.from_bucket_name(
                        self, f"{purpose.value}-selector", bucket_name(config, purpose)
                    )
                )
                for purpose in DATA_EVENT_BUCKETS
            ],
            include_management_events=True,
            read_write_type=cloudtrail.ReadWriteType.ALL,
        )
