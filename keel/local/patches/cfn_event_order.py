"""Stack events get strictly increasing timestamps, so clients that sort by time keep their order.

moto stamps events with the current time only; events of one operation often share a millisecond and
the CDK then printed e.g. ROLLBACK_IN_PROGRESS before the CREATE_FAILED that caused it.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from moto.cloudformation.models import Stack

from keel.local.extensions import Extension

STEP = timedelta(milliseconds=1)


def install() -> None:
    original = Stack._add_stack_event

    def add_stack_event(self: Stack, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        if len(self.events) > 1 and self.events[-1].timestamp <= self.events[-2].timestamp:
            self.events[-1].timestamp = self.events[-2].timestamp + STEP

    Stack._add_stack_event = add_stack_event  # type: ignore[method-assign]


EXTENSION = Extension(
    name="cfn-event-order",
    kind="fix",
    what="stack events have strictly increasing timestamps",
    why="events of one operation shared a millisecond and the CDK printed them out of order",
    upstream=True,
    install=install,
)
