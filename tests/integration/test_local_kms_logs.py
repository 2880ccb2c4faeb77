"""AWS::KMS::Key and AWS::Logs::LogGroup on the local server, checked through the KMS and Logs APIs."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest

from keel.local import cfn_deploy

pytestmark = pytest.mark.integration


def _key_policy(sid: str) -> dict[str, Any]:
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": sid,
                "Effect": "Allow",
                "Principal": {"AWS": {"Fn::Sub": "arn:aws:iam::${AWS::AccountId}:root"}},
                "Action": "kms:*",
                "Resource": "*",
            }
        ],
    }


def _template(group: str, *, version: int) -> dict[str, Any]:
    return {
        "Resources": {
            "Key": {
                "Type": "AWS::KMS::Key",
                "Properties": {
                    "Description": f"keel test v{version}",
                    "EnableKeyRotation": version == 1,
                    "KeyPolicy": _key_policy(f"v{version}"),  # an object, as the CDK writes it
                    "PendingWindowInDays": 7,
                    "Tags": [{"Key": "version", "Value": str(version)}],
                },
            },
            "Logs": {
                "Type": "AWS::Logs::LogGroup",
                "Properties": {
                    "LogGroupName": group,
                    "RetentionInDays": 7 * version,
                    "KmsKeyId": {"Fn::GetAtt": ["Key", "Arn"]},
                },
            },
        },
        "Outputs": {"KeyId": {"Value": {"Ref": "Key"}}, "KeyArn": {"Value": {"Fn::GetAtt": ["Key", "Arn"]}}},
    }


def _group(logs: Any, name: str) -> dict[str, Any] | None:
    groups = logs.describe_log_groups(logGroupNamePrefix=name)["logGroups"]
    return next((g for g in groups if g["logGroupName"] == name), None)


def test_key_and_encrypted_log_group(moto_server: Any) -> None:
    cfn, kms, logs = (moto_server.client(s) for s in ("cloudformation", "kms", "logs"))
    stack, group = f"kms-logs-{uuid.uuid4().hex[:8]}", f"/keel/test/{uuid.uuid4().hex[:8]}"

    outputs = cfn_deploy.outputs(cfn_deploy.deploy(cfn, stack, _template(group, version=1)))
    key_id, key_arn = outputs["KeyId"], outputs["KeyArn"]
    metadata = kms.describe_key(KeyId=key_id)["KeyMetadata"]  # HTTP 500 with moto's own model
    assert (metadata["Arn"], metadata["KeyState"], metadata["Description"]) == (
        key_arn,
        "Enabled",
        "keel test v1",
    )
    policy = json.loads(kms.get_key_policy(KeyId=key_id, PolicyName="default")["Policy"])
    assert policy["Statement"][0]["Sid"] == "v1"
    assert policy["Statement"][0]["Principal"] == {"AWS": f"arn:aws:iam::{moto_server.account_id}:root"}
    assert kms.get_key_rotation_status(KeyId=key_id)["KeyRotationEnabled"] is True
    assert kms.list_resource_tags(KeyId=key_id)["Tags"] == [{"TagKey": "version", "TagValue": "1"}]
    log_group = _group(logs, group)
    assert log_group is not None
    assert (log_group["kmsKeyId"], log_group["retentionInDays"]) == (key_arn, 7)

    outputs = cfn_deploy.outputs(cfn_deploy.deploy(cfn, stack, _template(group, version=2)))
    assert outputs["KeyId"] == key_id  # updated in place, not replaced
    assert kms.describe_key(KeyId=key_id)["KeyMetadata"]["Description"] == "keel test v2"
    policy = json.loads(kms.get_key_policy(KeyId=key_id, PolicyName="default")["Policy"])
    assert policy["Statement"][0]["Sid"] == "v2"
    assert kms.get_key_rotation_status(KeyId=key_id)["KeyRotationEnabled"] is False
    assert kms.list_resource_tags(KeyId=key_id)["Tags"] == [{"TagKey": "version", "TagValue": "2"}]
    log_group = _group(logs, group)
    assert log_group is not None
    assert (log_group["kmsKeyId"], log_group["retentionInDays"]) == (key_arn, 14)

    cfn_deploy.delete(cfn, stack)
    assert _group(logs, group) is None
    # CloudFormation schedules key deletion (PendingWindowInDays) instead of deleting at once.
    assert kms.describe_key(KeyId=key_id)["KeyMetadata"]["KeyState"] == "PendingDeletion"
