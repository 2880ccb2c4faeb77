"""GetBucketNotificationConfiguration reports `EventBridgeConfiguration` when it is enabled.

moto stores the setting (and sends the events) but leaves it out of the response, so nobody could
check that a bucket publishes to EventBridge.
"""

from __future__ import annotations

from typing import Any

from moto.core.responses import ActionResult, EmptyResult
from moto.s3.responses import S3Response

from keel.local.extensions import Extension


def _target(item: Any, arn_key: str) -> dict[str, Any]:
    config: dict[str, Any] = {"Id": item.id, arn_key: item.arn, "Events": item.events}
    if item.filters:
        config["Filter"] = {"Key": {"FilterRules": item.filters["S3Key"]["FilterRule"]}}
    return config


def get_bucket_notification(self: S3Response) -> Any:
    configuration = self.backend.get_bucket_notification_configuration(self.bucket_name)
    if not configuration:
        return self.serialized(EmptyResult())
    result: dict[str, Any] = {
        "TopicConfigurations": [_target(t, "TopicArn") for t in configuration.topic],
        "QueueConfigurations": [_target(q, "QueueArn") for q in configuration.queue],
        "LambdaFunctionConfigurations": [
            _target(f, "LambdaFunctionArn") for f in configuration.cloud_function
        ],
    }
    if configuration.event_bridge is not None:
        result["EventBridgeConfiguration"] = {}
    self.data["Action"] = "GetBucketNotificationConfiguration"
    return self.serialized(ActionResult(result))


def install() -> None:
    S3Response.get_bucket_notification = get_bucket_notification  # type: ignore[method-assign]


EXTENSION = Extension(
    name="s3-eventbridge-notification",
    kind="fix",
    what="GetBucketNotificationConfiguration returns EventBridgeConfiguration when enabled",
    why="moto omitted it: EventBridge delivery of bucket events could not be verified",
    upstream=True,
    install=install,
)
