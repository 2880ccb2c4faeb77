"""Keel's data buckets, each with the SecureBucket baseline and the key of its purpose."""

from __future__ import annotations

from aws_cdk import RemovalPolicy
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from constructs import Construct

from keel.config import EnvironmentConfig
from keel.naming import BucketPurpose, bucket_name
from stacks.constructs.secure_bucket import AccessLogsBucket, SecureBucket


class DataBuckets(Construct):
    """raw, curated, feedback (data key); artifacts, reports (artifacts key); evidence (audit key, Object
    Lock in governance mode); and the access-log bucket they all log to."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: EnvironmentConfig,
        data_key: kms.IKey,
        artifacts_key: kms.IKey,
        audit_key: kms.IKey,
        removal_policy: RemovalPolicy,
    ) -> None:
        super().__init__(scope, construct_id)
        self.access_logs = AccessLogsBucket(
            self,
            "AccessLogs",
            bucket_name=bucket_name(config, BucketPurpose.ACCESS_LOGS),
            expire_after_days=config.retention.access_log_days,
        ).bucket
        retention = config.retention

        def make(purpose: BucketPurpose, key: kms.IKey, **options: object) -> s3.Bucket:
            return SecureBucket(
                self,
                purpose.value.capitalize(),
                bucket_name=bucket_name(config, purpose),
                encryption_key=key,
                access_logs_bucket=self.access_logs,
                removal_policy=removal_policy,
                noncurrent_version_days=retention.noncurrent_version_days,
                **options,  # type: ignore[arg-type]
            ).bucket

        ia_days = retention.infrequent_access_after_days
        # raw and feedback publish object events to EventBridge for the data and feedback triggers.
        self.raw = make(
            BucketPurpose.RAW, data_key, infrequent_access_after_days=ia_days, event_bridge_notifications=True
        )
        self.curated = make(BucketPurpose.CURATED, data_key, infrequent_access_after_days=ia_days)
        self.feedback = make(
            BucketPurpose.FEEDBACK,
            data_key,
            infrequent_access_after_days=ia_days,
            event_bridge_notifications=True,
        )
        self.artifacts = make(BucketPurpose.ARTIFACTS, artifacts_key)
        self.reports = make(BucketPurpose.REPORTS, artifacts_key)
        self.evidence = make(
            BucketPurpose.EVIDENCE, audit_key, object_lock_governance_days=retention.evidence_days
        )

    @property
    def by_purpose(self) -> dict[BucketPurpose, s3.Bucket]:
        return {
            BucketPurpose.RAW: self.raw,
            BucketPurpose.CURATED: self.curated,
            BucketPurpose.FEEDBACK: self.feedback,
            BucketPurpose.ARTIFACTS: self.artifacts,
            BucketPurpose.REPORTS: self.reports,
            BucketPurpose.EVIDENCE: self.evidence,
            BucketPurpose.ACCESS_LOGS: self.access_logs,
        }
