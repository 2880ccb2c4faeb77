"""EventBridge scheduled rules in the local AWS (server side): a rule with a `rate(...)` or `cron(...)`
expression sends the `Scheduled Event` EventBridge sends to its targets when its time comes on the local
clock (`keel.local.timekeeper`), through moto's target delivery (Lambda targets are kept for Keel's invoker
by `keel.local.patches.events_lambda_targets`). `fire` sends one now, whatever the schedule.

A rule's first time is one interval after the clock first sees it (rate) or the next matching minute
(cron). After a long clock advance, each missed time fires, up to MAX_CATCH_UP per rule and tick.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from moto.events.models import Rule, events_backends

from keel.local import schedule_expressions
from keel.local.service_events import TIME_FORMAT, moto_form

LOGGER = logging.getLogger(__name__)
MAX_CATCH_UP = 60
SCHEDULE_SOURCE, SCHEDULED_EVENT = "aws.events", "Scheduled Event"

_LOCK = threading.Lock()
# rule ARN -> (expression, next time); a changed expression starts over, a deleted rule is forgotten
_NEXT: dict[str, tuple[str, datetime | None]] = {}


def scheduled_event(rule: Rule, at: datetime) -> dict[str, Any]:
    """The event EventBridge sends to a scheduled rule's targets."""
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": SCHEDULED_EVENT,
        "source": SCHEDULE_SOURCE,
        "account": rule.account_id,
        "time": at.strftime(TIME_FORMAT),
        "region": rule.region_name,
        "resources": [rule.arn],
        "detail": {},
    }


def is_own_scheduled_event(rule: Rule, event: Any) -> bool:
    """A scheduled rule receives its own Scheduled Events only."""
    return (
        isinstance(event, dict)
        and event.get("source") == SCHEDULE_SOURCE
        and event.get("detail-type") == SCHEDULED_EVENT
        and event.get("resources") == [rule.arn]
    )


def fire(rule: Rule, at: datetime) -> dict[str, Any]:
    """Send the rule's Scheduled Event for `at` to its targets; the event."""
    event = scheduled_event(rule, at)
    rule.send_to_targets(moto_form(event))  # type: ignore[arg-type]
    return event


def find_rule(account: str, region: str, name: str, bus: str = "default") -> Rule:
    backend = events_backends[account][region]
    rule = backend.describe_event_bus(bus).rules.get(name) if bus in backend.event_buses else None
    if rule is None:
        raise KeyError(f"no rule {name!r} on event bus {bus!r} in {account}/{region}")
    return rule


def scheduled_rules() -> Iterator[Rule]:
    for _account, regions in list(events_backends.items()):
        for _region, backend in list(regions.items()):
            for bus in list(backend.event_buses.values()):
                for rule in list(bus.rules.values()):
                    if rule.scheduled_expression and rule.state == "ENABLED":
                        yield rule


def _next(expression: str, after: datetime) -> datetime | None:
    try:
        return schedule_expressions.parse(expression).next_after(after)
    except schedule_expressions.ScheduleExpressionError as error:
        LOGGER.warning("schedule %r is not run locally: %s", expression, error)
        return None


def track(rule: Rule, now: datetime) -> None:
    """Start the rule's schedule at `now` (PutRule): its first time is one interval later (rate) or the
    next matching minute (cron). The same expression put again keeps its times."""
    expression = str(rule.scheduled_expression or "")
    with _LOCK:
        if expression and _NEXT.get(rule.arn, (None, None))[0] != expression:
            _NEXT[rule.arn] = (expression, _next(expression, now))


def fire_due(now: datetime) -> list[dict[str, Any]]:
    """Send every Scheduled Event due by `now`; the events sent."""
    sent: list[dict[str, Any]] = []
    seen: set[str] = set()
    for rule in scheduled_rules():
        expression = str(rule.scheduled_expression)
        seen.add(rule.arn)
        with _LOCK:
            known, due = _NEXT.get(rule.arn, (None, None))
            if known != expression:  # a new rule, or a changed schedule: its first time is ahead
                _NEXT[rule.arn] = (expression, _next(expression, now))
                continue
        fired = 0
        while due is not None and due <= now and fired < MAX_CATCH_UP:
            try:
                sent.append(fire(rule, due))
            except Exception:  # one rule's broken target must not stop the clock
                LOGGER.warning("scheduled rule %s could not deliver", rule.name, exc_info=True)
            fired += 1
            due = _next(expression, due)
        if due is not None and due <= now:  # more missed times than MAX_CATCH_UP: skip to the next one
            LOGGER.warning("scheduled rule %s: missed times after %d were skipped", rule.name, fired)
            due = _next(expression, now)
        with _LOCK:
            _NEXT[rule.arn] = (expression, due)
    with _LOCK:
        for arn in set(_NEXT) - seen:  # deleted or disabled: enabled again, it starts over
            del _NEXT[arn]
    return sent
