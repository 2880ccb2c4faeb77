"""The pipeline's artifact store: a Keel SecureBucket under a rotating KMS key that the target accounts'
CDK bootstrap roles may use (CodePipeline adds those grants when it wires the cross-account actions)."""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_kms as kms
from constructs import Construct

from keel.config import Delivery
from keel.delivery.naming import delivery_bucket_name
from stacks.constructs.secure_bucket import AccessLogsBucket, SecureBucket

ARTIFACT_VERSION_DAYS = 30
ACCESS_LOG_DAYS = 365


class ArtifactStore(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, delivery: Delivery) -> None:
        super().__init__(scope, construct_id)
        self.key = kms.Key(
            self,
            "Key",
            alias="alias/keel-delivery/artifacts",
            description="Keel delivery: pipeline artifacts (source, cloud assembly) shared with the stages",
            enable_key_rotation=True,
            rotation_period=Duration.days(365),
            removal_policy=RemovalPolicy.RETAIN,
        )
        self.access_logs = AccessLogsBucket(
            self,
            "AccessLogs",
            bucket_name=delivery_bucket_name(delivery, "access-logs"),
            expire_after_days=ACCESS_LOG_DAYS,
        ).bucket
        # Artifacts are rebuilt by every execution: old versions are only kept long enough to investigate.
        self.bucket = SecureBucket(
            self,
            "Bucket",
            bucket_name=delivery_bucket_name(delivery, "artifacts"),
            encryption_key=self.key,
            access_logs_bucket=self.access_logs,
            removal_policy=RemovalPolicy.RETAIN,
            noncurrent_version_days=ARTIFACT_VERSION_DAYS,
            replication_reason=(
                "Pipeline artifacts are reproducible from the source revision; replicating them to another "
                "region adds cost without recovery value."
            ),
        ).bucket
