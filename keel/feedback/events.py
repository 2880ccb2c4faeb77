"""The events the feedback functions receive: parser models, and builders of well-formed events.

The builders make the same shapes AWS delivers (EventBridge S3 and alarm events, schedules, Kinesis batches,
API Gateway proxy requests). Tests, the benchmark and the local runner use them to drive the handlers
in-process, because moto neither runs Lambda code nor delivers these events to Lambda targets.
"""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools.utilities.parser.exceptions import InvalidModelTypeError
from aws_lambda_powertools.utilities.parser.models import EventBridgeModel
from pydantic import BaseModel, ConfigDict, Field, ValidationError

S3_SOURCE = "aws.s3"
# What Powertools' `parse` raises for an event that is not the model: pydantic's errors, and
# InvalidModelTypeError when a nested part is of the wrong type (e.g. requestContext null).
PARSE_ERRORS: tuple[type[Exception], ...] = (ValidationError, ValueError, TypeError, InvalidModelTypeError)
OBJECT_CREATED = "Object Created"
SCHEDULE_SOURCE = "aws.events"
SCHEDULED_EVENT = "Scheduled Event"
ALARM_SOURCE = "aws.cloudwatch"
ALARM_STATE_CHANGE = "CloudWatch Alarm State Change"


class AlarmState(BaseModel):
    model_config = ConfigDict(extra="ignore")
    value: str = Field(min_length=1, max_length=32)
    reason: str = ""
    timestamp: str | None = None


class AlarmStateChangeDetail(BaseModel):
    model_config = ConfigDict(extra="ignore")
    alarmName: str = Field(min_length=1, max_length=255)  # noqa: N815 - the event's field name
    state: AlarmState
    previousState: AlarmState | None = None  # noqa: N815


class AlarmStateChangeEvent(EventBridgeModel):
    detail: AlarmStateChangeDetail


def is_scheduled_event(event: Any) -> bool:
    return (
        isinstance(event, Mapping)
        and event.get("source") == SCHEDULE_SOURCE
        and event.get("detail-type") == SCHEDULED_EVENT
    )


def _time(value: datetime | None) -> str:
    return (value or datetime.now(UTC)).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def s3_object_created_event(
    bucket: str,
    key: str,
    *,
    version_id: str | None,
    size: int,
    etag: str = "",
    time: datetime | None = None,
    event_id: str | None = None,
    account: str = "123456789012",
    region: str = "us-east-1",
) -> dict[str, Any]:
    obj: dict[str, Any] = {"key": key, "size": size, "etag": etag, "sequencer": "0"}
    if version_id:
        obj["version-id"] = version_id
    return {
        "version": "0",
        "id": event_id or str(uuid.uuid4()),
        "detail-type": OBJECT_CREATED,
        "source": S3_SOURCE,
        "account": account,
        "time": _time(time),
        "region": region,
        "resources": [f"arn:aws:s3:::{bucket}"],
        "detail": {
            "version": "0",
            "bucket": {"name": bucket},
            "object": obj,
            "request-id": uuid.uuid4().hex[:16].upper(),
            "requester": account,
            "reason": "PutObject",
        },
    }


def scheduled_event(
    rule_arn: str, *, time: datetime | None = None, account: str = "123456789012", region: str = "us-east-1"
) -> dict[str, Any]:
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": SCHEDULED_EVENT,
        "source": SCHEDULE_SOURCE,
        "account": account,
        "time": _time(time),
        "region": region,
        "resources": [rule_arn],
        "detail": {},
    }


def alarm_state_change_event(
    alarm: Mapping[str, Any],
    *,
    previous_state: str = "OK",
    event_id: str | None = None,
    time: datetime | None = None,
    account: str = "123456789012",
    region: str = "us-east-1",
) -> dict[str, Any]:
    """The EventBridge event CloudWatch sends when `alarm` (a DescribeAlarms `MetricAlarms` entry) changed."""
    updated = alarm.get("StateUpdatedTimestamp")
    return {
        "version": "0",
        "id": event_id or str(uuid.uuid4()),
        "detail-type": ALARM_STATE_CHANGE,
        "source": ALARM_SOURCE,
        "account": account,
        "time": _time(time),
        "region": region,
        "resources": [
            alarm.get("AlarmArn", f"arn:aws:cloudwatch:{region}:{account}:alarm:{alarm['AlarmName']}")
        ],
        "detail": {
            "alarmName": alarm["AlarmName"],
            "state": {
                "value": alarm["StateValue"],
                "reason": alarm.get("StateReason", ""),
                "timestamp": updated.isoformat() if isinstance(updated, datetime) else str(updated or ""),
            },
            "previousState": {"value": previous_state, "reason": ""},
            "configuration": {"description": alarm.get("AlarmDescription", "")},
        },
    }


def kinesis_event(
    payloads: Iterable[bytes],
    *,
    stream_arn: str,
    shard_id: str = "shardId-000000000000",
    first_sequence: int = 1,
    arrival: datetime | None = None,
    partition_key: str = "keel",
) -> dict[str, Any]:
    arrived = (arrival or datetime.now(UTC)).timestamp()
    records = []
    for offset, data in enumerate(payloads):
        sequence = f"{first_sequence + offset:056d}"
        records.append(
            {
                "kinesis": {
                    "kinesisSchemaVersion": "1.0",
                    "partitionKey": partition_key,
                    "sequenceNumber": sequence,
                    "data": base64.b64encode(data).decode(),
                    "approximateArrivalTimestamp": arrived,
                },
                "eventSource": "aws:kinesis",
                "eventVersion": "1.0",
                "eventID": f"{shard_id}:{sequence}",
                "eventName": "aws:kinesis:record",
                "invokeIdentityArn": "arn:aws:iam::123456789012:role/keel-stream-ingest",
                "awsRegion": stream_arn.split(":")[3] if stream_arn.count(":") >= 5 else "us-east-1",
                "eventSourceARN": stream_arn,
            }
        )
    return {"Records": records}


def kinesis_event_from_records(
    records: Iterable[Mapping[str, Any]], *, stream_arn: str, shard_id: str
) -> dict[str, Any]:
    """The Lambda event of records read with Kinesis GetRecords (what the event source mapping delivers)."""
    region = stream_arn.split(":")[3]
    return {
        "Records": [
            {
                "kinesis": {
                    "kinesisSchemaVersion": "1.0",
                    "partitionKey": record["PartitionKey"],
                    "sequenceNumber": record["SequenceNumber"],
                    "data": base64.b64encode(record["Data"]).decode(),
                    "approximateArrivalTimestamp": record["ApproximateArrivalTimestamp"].timestamp(),
                },
                "eventSource": "aws:kinesis",
                "eventVersion": "1.0",
                "eventID": f"{shard_id}:{record['SequenceNumber']}",
                "eventName": "aws:kinesis:record",
                "invokeIdentityArn": "arn:aws:iam::123456789012:role/keel-stream-ingest",
                "awsRegion": region,
                "eventSourceARN": stream_arn,
            }
            for record in records
        ]
    }


def api_correction_event(
    body: Any,
    *,
    principal_arn: str = "arn:aws:iam::123456789012:user/reviewer",
    request_id: str | None = None,
    time: datetime | None = None,
    path: str = "/corrections",
) -> dict[str, Any]:
    """An API Gateway (REST, Lambda proxy) POST signed with SigV4 by `principal_arn`."""
    moment = (time or datetime.now(UTC)).astimezone(UTC)
    return {
        "resource": path,
        "path": path,
        "httpMethod": "POST",
        "headers": {"Content-Type": "application/json"},
        "multiValueHeaders": {"Content-Type": ["application/json"]},
        "queryStringParameters": None,
        "multiValueQueryStringParameters": None,
        "pathParameters": None,
        "stageVariables": None,
        "requestContext": {
            "accountId": principal_arn.split(":")[4] if principal_arn.count(":") >= 5 else "123456789012",
            "apiId": "keelapi",
            "resourceId": "corrections",
            "resourcePath": path,
            "httpMethod": "POST",
            "requestId": request_id or str(uuid.uuid4()),
            "requestTimeEpoch": int(moment.timestamp() * 1000),
            "requestTime": moment.strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "path": f"/v1{path}",
            "protocol": "HTTP/1.1",
            "stage": "v1",
            "identity": {
                "sourceIp": "127.0.0.1",
                "userArn": principal_arn,
                "user": principal_arn.rsplit("/", 1)[-1],
                "userAgent": "keel",
                "accountId": None,
                "caller": None,
                "accessKey": None,
                "cognitoAuthenticationProvider": None,
                "cognitoAuthenticationType": None,
                "cognitoIdentityId": None,
                "cognitoIdentityPoolId": None,
                "principalOrgId": None,
            },
        },
        "body": body if isinstance(body, str) or body is None else json.dumps(body),
        "isBase64Encoded": False,
    }
