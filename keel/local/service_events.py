"""Events AWS services send to the account's default EventBridge bus, for extensions whose service moto
leaves silent (CloudWatch alarm state changes, SageMaker pipeline and model package changes)."""

from __future__ import annotations

import logging
import uuid
from datetime import UTC, datetime
from typing import Any

LOGGER = logging.getLogger(__name__)


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
        "time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": region,
        "resources": resources,
        "detail": detail,
    }
    bus = events_backends[account][region].describe_event_bus("default")
    for rule in list(bus.rules.values()):
        try:
            rule.send_to_targets(dict(event))
        except Exception:  # one rule's broken target must not keep the event from the others
            LOGGER.warning("event %s: rule %s could not deliver it", detail_type, rule.name, exc_info=True)
    return event
