"""EventBridge runs scheduled rules in the local AWS: a `rate(...)` or `cron(...)` rule sends its
`Scheduled Event` to its targets when its time comes on the local clock (`keel.local.event_schedules`,
`keel.local.timekeeper`), or at once through `POST /moto-api/keel/events/fire`."""

from __future__ import annotations

from typing import Any

from moto.events.models import EventsBackend, Rule

from keel.local import event_schedules
from keel.local.extensions import Extension
from keel.local.timekeeper import CLOCK


def install() -> None:
    original = EventsBackend.put_rule

    def put_rule(self: EventsBackend, *args: Any, **kwargs: Any) -> Rule:
        rule = original(self, *args, **kwargs)
        if rule.scheduled_expression:  # the schedule starts when the rule is put, as in EventBridge
            event_schedules.track(rule, CLOCK.now())
        return rule

    EventsBackend.put_rule = put_rule  # type: ignore[method-assign]


EXTENSION = Extension(
    name="events-schedules",
    kind="fix",
    what="enabled rules with `rate(...)` or `cron(...)` (`, - * / ? L #`; not `W`) send EventBridge's "
    "`Scheduled Event` (source aws.events, resources [rule ARN], detail {}) to their targets when due on "
    "the local clock (missed times after a clock advance fire too, at most 60 per tick); "
    "`POST /moto-api/keel/events/fire` fires a rule now",
    why="nothing in moto runs a timer: scheduled rules never fired, so Keel's scenario built the data "
    "trigger's sweep event itself",
    upstream=True,
    install=install,
)
