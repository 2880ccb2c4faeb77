"""Events AWS services send to the account's default EventBridge bus, for extensions whose service moto
leaves silent (CloudWatch alarm state changes, SageMaker pipeline and model package changes)."""

from __future__ import annotations

import logging
import time
import uuid
from datetime import UTC, datetime
from typing import Any

LOGGER = logging.getLogger(__name__)
TIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"


def moto_form(event: dict[str, Any]) -> dict[str, Any]:
    """An event as moto's target delivery (SQS, logs, other buses) reads it: `time` in epoch seconds (its
    SQS delivery turns it back into ISO 8601) and its internal `ingestion-time`."""
    moment = event.get("time")
    if isinstance(moment, str):
        moment = datetime.strptime(moment, TIME_FORMAT).replace(tzinfo=UTC).timestamp()
    return {**event, "time": moment, "ingestion-time": time.time()}


def aws_form(event: dict[str, Any]) -> dict[str, Any]:
    """An event as EventBridge delivers it: `time` in ISO 8601, without moto's internal fields."""
    aws = {k: v for k, v in event.items() if k != "ingestion-time"}
    if isinstance(aws.get("time"), int | float):
        aws["time"] = datetime.fromtimestamp(aws["time"], UTC).strftime(TIME_FORMAT)
    return aws


def emit(
    account: str, region: str, *, source: str, detail_type: str, detail: dict[str, Any], resources: list[str]
) -> dict[str, Any]:
    """Send the event to every rule of the default bus (as the service would); the event."""
    from moto.events.models import events_backends

    event = {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": detail_type,
        "source": source,
        "account": account,
        "time": datetime.now(UTC).strftime(TIME_FORMAT),
        "region": region,
        "resources": resources,
        "detail": detail,
    }
    bus = events_backends[account][region].describe_event_bus("default")
    for rule in list(bus.rules.values()):
        try:
            rule.send_to_targets(moto_form(event))  # type: ignore[arg-type]
        except Exception:  # one rule's broken target must not keep the event from the others
            LOGGER.warning("event %s: rule %s could not deliver it", detail_type, rule.name, exc_info=True)
    return event
