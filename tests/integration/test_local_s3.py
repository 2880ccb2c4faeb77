"""AWS::S3::Bucket and AWS::S3::BucketPolicy on the local server, checked through the S3 API."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from botocore.exceptions import ClientError

from keel.local import cfn_deploy

pytestmark = pytest.mark.integration

KEY_POLICY = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": {"AWS": {"Fn::Sub": "arn:aws:iam::${AWS::AccountId}:root"}},
            "Action": "kms:*",
            "Resource": "*",
        }
    ],
}


def _bucket_template(name: str, *, version: int) -> dict[str, Any]:
    """Version 1 sets every property Keel uses; version 2 changes or removes each of them."""
    logs = f"{name}-logs"
    data: dict[str, Any] = {
        "BucketName": name,
        "BucketEncryption": {
            "ServerSideEncryptionConfiguration": [
                {
                    "ServerSideEncryptionByDefault": {
                        "SSEAlgorithm": "aws:kms",
                        "KMSMasterKeyID": {"Fn::GetAtt": ["Key", "Arn"]},
                    },
                    "BucketKeyEnabled": True,
                }
            ]
        },
        "VersioningConfiguration": {"Status": "Enabled" if version == 1 else "Suspended"},
        "LoggingConfiguration": {"DestinationBucketName": {"Ref": "Logs"}, "LogFilePrefix": f"v{version}/"},
        "LifecycleConfiguration": {
            "Rules": [
                {
                    "Id": "noncurrent",
                    "Status": "Enabled",
                    "NoncurrentVersionExpiration": {"NoncurrentDays": 7 * version},
                    "Transitions": [{"StorageClass": "STANDARD_IA", "TransitionInDays": 30}],
                    "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 1},
                }
            ]
        },
        "Tags": [{"Key": "version", "Value": str(version)}],
    }
    evidence = {
        "BucketName": f"{name}-evidence",
        "VersioningConfiguration": {"Status": "Enabled"},  # Object Lock forbids suspending it
        "ObjectLockEnabled": True,
        "ObjectLockConfiguration": {
            "ObjectLockEnabled": "Enabled",
            "Rule": {"DefaultRetention": {"Mode": "GOVERNANCE", "Days": version}},
        },
    }
    if version == 1:
        data["PublicAccessBlockConfiguration"] = dict.fromkeys(
            ("BlockPublicAcls", "BlockPublicPolicy", "IgnorePublicAcls", "RestrictPublicBuckets"), True
        )
        data["NotificationConfiguration"] = {"EventBridgeConfiguration": {"EventBridgeEnabled": True}}
    return {
        "Resources": {
            "Key": {"Type": "AWS::KMS::Key", "Properties": {"KeyPolicy": KEY_POLICY}},
            "Logs": {
                "Type": "AWS::S3::Bucket",
                "Properties": {
                    "BucketName": logs,
                    "OwnershipControls": {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]},
                },
            },
            "Data": {"Type": "AWS::S3::Bucket", "Properties": data},
            "Evidence": {"Type": "AWS::S3::Bucket", "Properties": evidence},
        }
    }


def _error_code(call: Any) -> str:
    with pytest.raises(ClientError) as raised:
        call()
    return str(raised.value.response["Error"]["Code"])


def test_bucket_properties_are_applied_updated_and_deleted(moto_server: Any) -> None:
    cfn, s3 = moto_server.client("cloudformation"), moto_server.client("s3")
    name, stack = f"keel-test-{uuid.uuid4().hex[:8]}", f"s3-bucket-{uuid.uuid4().hex[:8]}"

    cfn_deploy.deploy(cfn, stack, _bucket_template(name, version=1))
    assert s3.get_bucket_versioning(Bucket=name)["Status"] == "Enabled"
    rule = s3.get_bucket_encryption(Bucket=name)["ServerSideEncryptionConfiguration"]["Rules"][0]
    assert rule["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "aws:kms"
    assert rule["ApplyServerSideEncryptionByDefault"]["KMSMasterKeyID"].startswith("arn:aws:kms:")
    assert rule["BucketKeyEnabled"] is True
    assert all(s3.get_public_access_block(Bucket=name)["PublicAccessBlockConfiguration"].values())
    assert s3.get_bucket_logging(Bucket=name)["LoggingEnabled"] == {
        "TargetBucket": f"{name}-logs",
        "TargetPrefix": "v1/",
    }
    assert "EventBridgeConfiguration" in s3.get_bucket_notification_configuration(Bucket=name)
    (lifecycle,) = s3.get_bucket_lifecycle_configuration(Bucket=name)["Rules"]
    assert lifecycle["NoncurrentVersionExpiration"] == {"NoncurrentDays": 7}
    assert lifecycle["Transitions"] == [{"Days": 30, "StorageClass": "STANDARD_IA"}]
    lock = s3.get_object_lock_configuration(Bucket=f"{name}-evidence")["ObjectLockConfiguration"]
    assert lock["ObjectLockEnabled"] == "Enabled"
    assert lock["Rule"]["DefaultRetention"]["Mode"] == "GOVERNANCE"
    assert lock["Rule"]["DefaultRetention"]["Days"] == 1
    assert s3.get_bucket_tagging(Bucket=name)["TagSet"] == [{"Key": "version", "Value": "1"}]
    ownership = s3.get_bucket_ownership_controls(Bucket=f"{name}-logs")["OwnershipControls"]["Rules"]
    assert ownership == [{"ObjectOwnership": "BucketOwnerEnforced"}]

    cfn_deploy.deploy(cfn, stack, _bucket_template(name, version=2))
    assert s3.get_bucket_versioning(Bucket=name)["Status"] == "Suspended"
    assert (
        _error_code(lambda: s3.get_public_access_block(Bucket=name)) == "NoSuchPublicAccessBlockConfiguration"
    )
    assert s3.get_bucket_logging(Bucket=name)["LoggingEnabled"]["TargetPrefix"] == "v2/"
    assert "EventBridgeConfiguration" not in s3.get_bucket_notification_configuration(Bucket=name)
    (lifecycle,) = s3.get_bucket_lifecycle_configuration(Bucket=name)["Rules"]
    assert lifecycle["NoncurrentVersionExpiration"] == {"NoncurrentDays": 14}
    lock = s3.get_object_lock_configuration(Bucket=f"{name}-evidence")["ObjectLockConfiguration"]
    assert lock["Rule"]["DefaultRetention"]["Days"] == 2
    assert s3.get_bucket_tagging(Bucket=name)["TagSet"] == [{"Key": "version", "Value": "2"}]

    # The server writes access logs (as S3 would): the log bucket must be emptied before deletion.
    logged = s3.list_objects_v2(Bucket=f"{name}-logs").get("Contents", [])
    assert logged, "access logging wrote nothing"
    for item in logged:
        s3.delete_object(Bucket=f"{name}-logs", Key=item["Key"])
    cfn_deploy.delete(cfn, stack)
    for bucket in (name, f"{name}-logs", f"{name}-evidence"):
        assert _error_code(lambda bucket=bucket: s3.head_bucket(Bucket=bucket)) == "404"


def test_a_bucket_that_holds_objects_fails_the_stack_deletion(moto_server: Any) -> None:
    cfn, s3 = moto_server.client("cloudformation"), moto_server.client("s3")
    name, stack = f"keel-test-{uuid.uuid4().hex[:8]}", f"s3-full-{uuid.uuid4().hex[:8]}"
    cfn_deploy.deploy(
        cfn, stack, {"Resources": {"B": {"Type": "AWS::S3::Bucket", "Properties": {"BucketName": name}}}}
    )
    s3.put_object(Bucket=name, Key="data.csv", Body=b"a,b\n")

    with pytest.raises(cfn_deploy.StackError, match="not empty") as raised:
        cfn_deploy.delete(cfn, stack)
    assert raised.value.status == "DELETE_FAILED"

    s3.delete_object(Bucket=name, Key="data.csv")
    cfn_deploy.delete(cfn, stack)
    assert _error_code(lambda: s3.head_bucket(Bucket=name)) == "404"


def _policy(name: str, *, require_kms: bool) -> dict[str, Any]:
    statements: list[dict[str, Any]] = [
        {  # what the CDK's enforce_ssl=True writes
            "Effect": "Deny",
            "Principal": {"AWS": "*"},
            "Action": "s3:*",
            "Resource": [f"arn:aws:s3:::{name}", f"arn:aws:s3:::{name}/*"],
            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
        }
    ]
    if require_kms:
        statements.append(
            {
                "Effect": "Deny",
                "Principal": "*",
                "Action": "s3:PutObject",
                "Resource": f"arn:aws:s3:::{name}/*",
                "Condition": {"StringNotEquals": {"s3:x-amz-server-side-encryption": "aws:kms"}},
            }
        )
    return {"Version": "2012-10-17", "Statement": statements}


def _policy_template(name: str, *, require_kms: bool | None) -> dict[str, Any]:
    resources: dict[str, Any] = {"Bucket": {"Type": "AWS::S3::Bucket", "Properties": {"BucketName": name}}}
    if require_kms is not None:
        resources["Policy"] = {
            "Type": "AWS::S3::BucketPolicy",
            "Properties": {
                "Bucket": {"Ref": "Bucket"},
                "PolicyDocument": _policy(name, require_kms=require_kms),
            },
        }
    return {"Resources": resources}


def test_bucket_policy_is_applied_with_its_conditions(moto_server: Any) -> None:
    cfn, s3 = moto_server.client("cloudformation"), moto_server.client("s3")
    name, stack = f"keel-test-{uuid.uuid4().hex[:8]}", f"s3-policy-{uuid.uuid4().hex[:8]}"

    cfn_deploy.deploy(cfn, stack, _policy_template(name, require_kms=True))
    statements = json.loads(s3.get_bucket_policy(Bucket=name)["Policy"])["Statement"]
    assert [s["Condition"] for s in statements] == [
        {"Bool": {"aws:SecureTransport": "false"}},
        {"StringNotEquals": {"s3:x-amz-server-side-encryption": "aws:kms"}},
    ]
    # The local endpoint counts as secure transport, so the enforce-SSL deny does not apply ...
    s3.put_object(Bucket=name, Key="ok", Body=b"x", ServerSideEncryption="aws:kms")
    # ... while the condition on the request's encryption header does.
    assert _error_code(lambda: s3.put_object(Bucket=name, Key="plain", Body=b"x")) == "403"

    cfn_deploy.deploy(cfn, stack, _policy_template(name, require_kms=False))
    s3.put_object(Bucket=name, Key="plain", Body=b"x")

    cfn_deploy.deploy(cfn, stack, _policy_template(name, require_kms=None))
    assert _error_code(lambda: s3.get_bucket_policy(Bucket=name)) == "NoSuchBucketPolicy"
    for key in ("ok", "plain"):
        s3.delete_object(Bucket=name, Key=key)
    cfn_deploy.delete(cfn, stack)
