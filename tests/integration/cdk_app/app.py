"""A tiny two-stack CDK app for the CDK CLI test of the local AWS (tests/integration/test_local_cdk_cli.py).

Context: `suffix` (unique stack names), `version` (1 or 2: version 2 changes the log retention).
It covers what the CDK CLI path needs: file assets (the auto-delete provider's code) uploaded through an
enforce-SSL bucket policy, a cross-stack reference (export/import), a KMS key, a custom resource.
"""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns

app = cdk.App()
suffix = str(app.node.try_get_context("suffix") or "dev")
version = int(app.node.try_get_context("version") or 1)
environment = cdk.Environment(account="123456789012", region="us-east-1")

base = cdk.Stack(app, f"KeelCliBase-{suffix}", env=environment)
key = kms.Key(base, "Key", enable_key_rotation=True, removal_policy=cdk.RemovalPolicy.DESTROY)
bucket = s3.Bucket(
    base,
    "Data",
    encryption=s3.BucketEncryption.KMS,
    encryption_key=key,
    enforce_ssl=True,
    versioned=True,
    block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
    removal_policy=cdk.RemovalPolicy.DESTROY,
    auto_delete_objects=True,
)
cdk.CfnOutput(base, "BucketName", value=bucket.bucket_name)

consumer = cdk.Stack(app, f"KeelCliConsumer-{suffix}", env=environment)
sns.Topic(consumer, "Alerts", master_key=key)  # cross-stack reference: an export of the base stack
logs.LogGroup(
    consumer,
    "Logs",
    encryption_key=key,
    retention=logs.RetentionDays.ONE_WEEK if version == 1 else logs.RetentionDays.TWO_WEEKS,
    removal_policy=cdk.RemovalPolicy.DESTROY,
)
app.synth()
