"""EventBridge event patterns of the feedback loops, as plain JSON: the stack's rules use them, and the local
runner and tests install them as rules on the local server (whose EventBridge routes S3 events to SQS)."""

from __future__ import annotations

from typing import Any

from keel.config import EnvironmentConfig
from keel.contract import DatasetContract
from keel.feedback.events import ALARM_SOURCE, ALARM_STATE_CHANGE, OBJECT_CREATED, S3_SOURCE
from keel.feedback.names import INCOMING_PREFIX, retrain_alarm_prefixes
from keel.naming import BucketPurpose, bucket_name


def object_created(bucket: str, prefix: str) -> dict[str, Any]:
    return {
        "source": [S3_SOURCE],
        "detail-type": [OBJECT_CREATED],
        "detail": {"bucket": {"name": [bucket]}, "object": {"key": [{"prefix": prefix}]}},
    }


def landed_data(config: EnvironmentConfig, contract: DatasetContract) -> dict[str, Any]:
    """Objects landing under the contract's prefix of the raw bucket (the data trigger)."""
    return object_created(bucket_name(config, BucketPurpose.RAW), contract.landing_prefix)


def reviewer_files(config: EnvironmentConfig) -> dict[str, Any]:
    """Reviewers' files under `incoming/` of the feedback bucket (the human feedback loop)."""
    return object_created(bucket_name(config, BucketPurpose.FEEDBACK), INCOMING_PREFIX)


def retrain_alarms(config: EnvironmentConfig) -> dict[str, Any]:
    """Keel's drift and model-quality alarms entering ALARM (the performance trigger)."""
    return {
        "source": [ALARM_SOURCE],
        "detail-type": [ALARM_STATE_CHANGE],
        "detail": {
            "alarmName": [{"prefix": prefix} for prefix in retrain_alarm_prefixes(config)],
            "state": {"value": ["ALARM"]},
        },
    }
