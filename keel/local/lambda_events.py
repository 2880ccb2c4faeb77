"""The events EventBridge kept for a Lambda function on Keel's local AWS (the `events-lambda-targets`
extension): the local runner takes them and invokes the deployed handler with each."""

from __future__ import annotations

import json
import urllib.parse
import urllib.request
from typing import Any

from keel.local.runner.execution_status import is_loopback_http
from keel.local.server import LAMBDA_EVENTS_PATH


class LambdaEventsError(RuntimeError):
    """The local AWS did not answer with the kept events."""


def take_events(endpoint_url: str, function_name: str, *, account: str, region: str) -> list[dict[str, Any]]:
    """Each kept event as {"rule", "target_id", "event"}, oldest first; taken events are not served again."""
    query = urllib.parse.urlencode({"function": function_name, "account": account, "region": region})
    url = f"{endpoint_url.rstrip('/')}{LAMBDA_EVENTS_PATH}?{query}"
    if not is_loopback_http(endpoint_url):
        raise LambdaEventsError(f"{endpoint_url} is not Keel's local AWS on loopback")
    try:
        with urllib.request.urlopen(url, timeout=30) as response:  # noqa: S310 - loopback only, checked above
            events = json.loads(response.read())
    except (OSError, ValueError) as error:
        raise LambdaEventsError(f"no kept events from {endpoint_url}: {error}") from error
    if not isinstance(events, list):
        raise LambdaEventsError(f"unexpected answer from {url}: {str(events)[:200]}")
    return events
