"""The local AWS's clock and the thread that makes time pass in it (server side).

The clock is real UTC time plus an offset that only grows (`advance`): tests and the scenario move time
forward instead of sleeping. Every `interval` seconds — and at once after each advance — a tick fires
the EventBridge schedules that are due (`keel.local.event_schedules`) and evaluates the CloudWatch alarms
that are due (`keel.local.alarm_evaluation`), as the two services do on their own in AWS.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

LOGGER = logging.getLogger(__name__)
DEFAULT_INTERVAL_SECONDS = 10.0


class LocalClock:
    def __init__(self) -> None:
        self._offset = timedelta()
        self._lock = threading.Lock()

    def now(self) -> datetime:
        """The local AWS's time (UTC, aware)."""
        with self._lock:
            return datetime.now(UTC) + self._offset

    @property
    def offset_seconds(self) -> float:
        with self._lock:
            return self._offset.total_seconds()

    def advance(self, seconds: float) -> datetime:
        if seconds < 0:
            raise ValueError("the local clock only moves forward")
        with self._lock:
            self._offset += timedelta(seconds=seconds)
        return self.now()


CLOCK = LocalClock()


def naive_utc_now() -> datetime:
    """moto's `utcnow()` (naive UTC), on the local clock: what moto stamps follows the local time."""
    return CLOCK.now().replace(tzinfo=None)


@dataclass
class TickResult:
    now: datetime
    fired: list[dict[str, Any]] = field(default_factory=list)  # the Scheduled Events sent
    alarms: dict[str, str | None] = field(default_factory=dict)  # "account/region/name" -> state

    def as_json(self) -> dict[str, Any]:
        return {"now": self.now.isoformat(), "fired": self.fired, "alarms": self.alarms}


# One tick at a time: the thread and the control API may both ask for one.
_TICK_LOCK = threading.RLock()


def tick() -> TickResult:
    """Fire the due schedules, then evaluate the due alarms (composites follow their children)."""
    from keel.local import alarm_evaluation, event_schedules

    with _TICK_LOCK:
        now = CLOCK.now()
        result = TickResult(now)
        result.fired = event_schedules.fire_due(now)
        result.alarms = alarm_evaluation.evaluate_everywhere(now, due_only=True)
        return result


class Ticker(threading.Thread):
    """Ticks every `interval` seconds until stopped; a failing tick is logged, never fatal."""

    def __init__(self, interval: float = DEFAULT_INTERVAL_SECONDS) -> None:
        super().__init__(name="keel-local-clock", daemon=True)
        self.interval = interval
        self._stopped = threading.Event()

    def run(self) -> None:
        while not self._stopped.wait(self.interval):
            try:
                tick()
            except Exception:  # the server must keep serving whatever one tick met
                LOGGER.warning("local clock tick failed", exc_info=True)

    def stop(self) -> None:
        self._stopped.set()
