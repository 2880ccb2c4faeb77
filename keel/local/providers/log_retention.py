"""`Custom::LogRetention` (CDK `log_retention=` on Lambda functions): set a log group's retention.

Same contract as the CDK's handler: create the log group if needed and put (or, for "Infinity"/absent,
delete) its retention; on Delete remove the group only when `RemovalPolicy` is `destroy`.
"""

from __future__ import annotations

import contextlib
from typing import Any


def on_event(event: dict[str, Any], logs: Any) -> dict[str, Any]:
    properties = event["ResourceProperties"]
    name = properties["LogGroupName"]
    if event["RequestType"] == "Delete":
        if properties.get("RemovalPolicy") == "destroy":
            with contextlib.suppress(logs.exceptions.ResourceNotFoundException):
                logs.delete_log_group(logGroupName=name)
        return {"PhysicalResourceId": event.get("PhysicalResourceId") or name, "Data": {}}
    with contextlib.suppress(logs.exceptions.ResourceAlreadyExistsException):
        logs.create_log_group(logGroupName=name)
    retention = properties.get("RetentionInDays")
    if retention and retention != "Infinity":
        logs.put_retention_policy(logGroupName=name, retentionInDays=int(retention))
    else:
        logs.delete_retention_policy(logGroupName=name)
    return {"PhysicalResourceId": name, "Data": {"LogGroupName": name}}
