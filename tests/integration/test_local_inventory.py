"""The inventory `keel local up|status` prints: facts as the service APIs report them."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from keel.local import cfn_deploy, inventory

pytestmark = pytest.mark.integration


def test_inventory_reports_service_facts_and_missing_resources(moto_server: Any) -> None:
    cfn, s3 = moto_server.client("cloudformation"), moto_server.client("s3")
    stack, bucket = f"inventory-{uuid.uuid4().hex[:8]}", f"keel-inv-{uuid.uuid4().hex[:8]}"
    template = {
        "Resources": {
            "Key": {"Type": "AWS::KMS::Key", "Properties": {"EnableKeyRotation": True}},
            "Bucket": {
                "Type": "AWS::S3::Bucket",
                "Properties": {
                    "BucketName": bucket,
                    "VersioningConfiguration": {"Status": "Enabled"},
                    "PublicAccessBlockConfiguration": dict.fromkeys(
                        ("BlockPublicAcls", "BlockPublicPolicy", "IgnorePublicAcls", "RestrictPublicBuckets"),
                        True,
                    ),
                },
            },
            "Logs": {"Type": "AWS::Logs::LogGroup", "Properties": {"RetentionInDays": 7}},
        }
    }
    cfn_deploy.deploy(cfn, stack, template)
    clients = inventory.Clients(moto_server.endpoint_url, moto_server.region)
    rows = {row.resource_type: row for row in inventory.collect(clients, [stack])}
    assert "versioning Enabled" in rows["AWS::S3::Bucket"].facts
    assert "PAB all" in rows["AWS::S3::Bucket"].facts
    assert "rotation on" in rows["AWS::KMS::Key"].facts
    assert "retention 7 d" in rows["AWS::Logs::LogGroup"].facts

    s3.delete_bucket(Bucket=bucket)  # deleted behind CloudFormation's back
    rows = {row.resource_type: row for row in inventory.collect(clients, [stack])}
    assert rows["AWS::S3::Bucket"].facts.startswith("MISSING")
    text = inventory.render(list(rows.values()))
    assert text.splitlines()[0] == stack
    cfn_deploy.delete(cfn, stack)
