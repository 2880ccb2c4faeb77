"""EventBridge rules with Lambda targets: a matching event is kept for the function, in the target's shape
(Input, InputPath or InputTransformer applied), instead of moto's NotImplementedError — which also cut off
delivery to the rules after it. Schedule-only and disabled rules receive no events (moto matched every event
to a rule without an event pattern).

moto cannot run Lambda code without Docker, so the local runner takes the kept events (`GET
/_keel/lambda-events?function=NAME`, see `keel.local.lambda_events`) and invokes the deployed handler with
them in-process: routing (buses, rules, event patterns, targets) is the real, deployed one.
"""

from __future__ import annotations

import json
import threading
import time
from collections import defaultdict
from typing import Any

from moto.events.models import EventTemplateParser, Rule
from moto.utilities.arns import parse_arn

from keel.local.event_schedules import is_own_scheduled_event
from keel.local.extensions import Extension
from keel.local.server import LAMBDA_EVENTS_PATH
from keel.local.service_events import aws_form

_LOCK = threading.RLock()  # re-entrant: a rule may forward to another bus, whose rules run inside
# (account, region, function name) -> events not yet taken, oldest first
_PENDING: dict[tuple[str, str, str], list[dict[str, Any]]] = defaultdict(list)


def _function_name(arn: str) -> str:
    # arn:aws:lambda:REGION:ACCOUNT:function:NAME[:QUALIFIER]
    return arn.split(":")[6]


def target_input(target: dict[str, Any], event: dict[str, Any], transform_input: bool) -> Any:
    """What EventBridge passes to the target: a constant Input, a part of the event, a transformation, or
    the event itself."""
    ingestion = event.get("ingestion-time", time.time())
    event = aws_form(event)
    if not transform_input:
        return event
    if "Input" in target:
        return json.loads(target["Input"])
    if "InputPath" in target:
        value: Any = event
        for part in target["InputPath"].removeprefix("$").strip(".").split("."):
            if part:
                value = value.get(part) if isinstance(value, dict) else None
        return value
    transformer = target.get("InputTransformer")
    if transformer:
        return EventTemplateParser.parse(
            input_template=transformer.get("InputTemplate"),
            input_paths_map=transformer.get("InputPathsMap", {}),
            event={**event, "ingestion-time": ingestion},  # type: ignore[typeddict-item]
        )
    return event


def receives_events(rule: Rule, event: Any = None) -> bool:
    """A disabled rule receives nothing; a schedule-only rule (no event pattern) only its own Scheduled
    Events (`keel.local.event_schedules`)."""
    if rule.state != "ENABLED":
        return False
    if rule.scheduled_expression and not rule.event_pattern.get_pattern():
        return is_own_scheduled_event(rule, event)
    return True


def take(account: str, region: str, function: str) -> list[dict[str, Any]]:
    """The events kept for a function since the last call (and forget them)."""
    with _LOCK:
        return _PENDING.pop((account, region, function), [])


def pending_counts() -> dict[str, int]:
    with _LOCK:
        return {f"{a}/{r}/{f}": len(events) for (a, r, f), events in _PENDING.items() if events}


def install() -> None:
    original = Rule.send_to_targets

    def send_to_targets(self: Rule, original_event: Any, transform_input: bool = True) -> None:
        if not receives_events(self, original_event) or not self.event_pattern.matches_event(original_event):
            return
        functions = [t for t in self.targets if parse_arn(t["Arn"]).service == "lambda"]
        for target in functions:
            arn = parse_arn(target["Arn"])
            delivered = {
                "rule": self.name,
                "target_id": target.get("Id"),
                "event": target_input(target, original_event, transform_input),
            }
            with _LOCK:
                _PENDING[(arn.account, arn.region, _function_name(target["Arn"]))].append(delivered)
        others = [t for t in self.targets if t not in functions]
        if others:
            with _LOCK:  # moto's own delivery for the other targets, on this rule's other targets only
                kept, self.targets = self.targets, others
                try:
                    original(self, original_event, transform_input)
                finally:
                    self.targets = kept

    Rule.send_to_targets = send_to_targets  # type: ignore[method-assign]


EXTENSION = Extension(
    name="events-lambda-targets",
    kind="fix",
    what="EventBridge rules with Lambda targets keep each matching event for the function (Input, InputPath, "
    f"InputTransformer applied), served at `GET {LAMBDA_EVENTS_PATH}?function=NAME`; other targets of the "
    "rule are delivered as before; disabled rules receive no events, schedule-only rules only their own "
    "Scheduled Events; the kept events have AWS's form (`time` in ISO 8601, no moto-internal fields)",
    why="moto raised NotImplementedError for Lambda targets — the event was lost, and S3's delivery loop "
    "stopped before the remaining rules — and sent every event to schedule rules (no pattern matches all)",
    upstream=False,
    install=install,
)
