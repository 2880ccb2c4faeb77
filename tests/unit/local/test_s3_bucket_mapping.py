"""CloudFormation properties of AWS::S3::Bucket → the S3 API shapes moto's backend stores."""

from __future__ import annotations

from keel.local.cfn_models import s3_bucket


def test_lifecycle_rules() -> None:
    properties = {
        "LifecycleConfiguration": {
            "Rules": [
                {
                    "Id": "tiering",
                    "Status": "Enabled",
                    "Prefix": "landing/",
                    "Transitions": [{"StorageClass": "STANDARD_IA", "TransitionInDays": 30}],
                    "NoncurrentVersionTransitions": [{"StorageClass": "GLACIER", "TransitionInDays": 60}],
                    "NoncurrentVersionExpiration": {"NoncurrentDays": 90},
                    "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 1},
                },
                {"Status": "Enabled", "ExpirationInDays": 7, "TagFilters": [{"Key": "tmp", "Value": "yes"}]},
                {"Status": "Disabled", "ExpiredObjectDeleteMarker": True},
            ]
        }
    }
    tiering, expiring, markers = s3_bucket.lifecycle_rules(properties)
    assert tiering == {
        "ID": "tiering",
        "Status": "Enabled",
        "Filter": {"Prefix": "landing/"},
        "Transition": [{"StorageClass": "STANDARD_IA", "Days": 30}],
        "NoncurrentVersionTransition": [{"StorageClass": "GLACIER", "NoncurrentDays": 60}],
        "NoncurrentVersionExpiration": {"NoncurrentDays": 90},
        "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 1},
    }
    assert expiring == {
        "Status": "Enabled",
        "Filter": {"Tag": {"Key": "tmp", "Value": "yes"}},
        "Expiration": {"Days": 7},
    }
    assert markers["Expiration"] == {"ExpiredObjectDeleteMarker": "true"}


def test_notifications() -> None:
    properties = {
        "NotificationConfiguration": {
            "EventBridgeConfiguration": {"EventBridgeEnabled": True},
            "QueueConfigurations": [
                {
                    "Event": "s3:ObjectCreated:*",
                    "Queue": "arn:aws:sqs:us-east-1:123456789012:q",
                    "Filter": {"S3Key": {"Rules": [{"Name": "prefix", "Value": "landing/"}]}},
                }
            ],
        }
    }
    assert s3_bucket.notification_configuration(properties) == {
        "EventBridgeConfiguration": {},
        "QueueConfiguration": [
            {
                "Queue": "arn:aws:sqs:us-east-1:123456789012:q",
                "Event": ["s3:ObjectCreated:*"],
                "Filter": {"S3Key": {"FilterRule": [{"Name": "prefix", "Value": "landing/"}]}},
            }
        ],
    }
    disabled = {"NotificationConfiguration": {"EventBridgeConfiguration": {"EventBridgeEnabled": False}}}
    assert s3_bucket.notification_configuration(disabled) is None


def test_encryption_keeps_the_key_and_bucket_key() -> None:
    properties = {
        "BucketEncryption": {
            "ServerSideEncryptionConfiguration": [
                {
                    "ServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": "arn:k"},
                    "BucketKeyEnabled": "true",
                }
            ]
        }
    }
    assert s3_bucket.encryption(properties) == {
        "Rule": {
            "ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": "arn:k"},
            "BucketKeyEnabled": "true",
        }
    }
    assert s3_bucket.encryption({}) is None
