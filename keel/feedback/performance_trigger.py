"""Performance trigger: Keel's drift and model-quality alarms entering ALARM start a retraining, with the
alarm as the recorded reason; a cool-down (`retrain_cooldown_minutes`) keeps an alarm storm to one retraining.
An optional schedule (`retrain_schedule`) retrains regardless of alarms (and restarts the cool-down).

Exactly once: each event is handled once (idempotent on the EventBridge event id). The cool-down is claimed
with a conditional write before the start and released if the start fails, so the failure propagates, the
event is retried, and the retry can claim it again.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aws_lambda_powertools.utilities.parser import parse
from aws_lambda_powertools.utilities.parser.models import EventBridgeModel

from keel.contract import DatasetContract
from keel.feedback.events import ALARM_STATE_CHANGE, PARSE_ERRORS, AlarmStateChangeEvent, is_scheduled_event
from keel.feedback.idempotency import Idempotency
from keel.feedback.launch import Launcher
from keel.feedback.ports import Clock, MetricSink
from keel.feedback.quarantine import Quarantine
from keel.feedback.settings import PerformanceTriggerSettings
from keel.feedback.state import StateStore
from keel.lineage.record import Trigger
from keel.naming import LATEST_VERSIONS

QUARANTINE_SOURCE = "performance-trigger"


@dataclass
class PerformanceTrigger:
    settings: PerformanceTriggerSettings
    contract: DatasetContract
    state: StateStore
    launcher: Launcher
    quarantine: Quarantine
    metrics: MetricSink
    idempotency: Idempotency
    clock: Clock

    def __post_init__(self) -> None:
        self._decide_once = self.idempotency.wrap(
            self._decide_and_start,
            key_prefix="performance.event",
            key_jmespath="event_id",
            data_keyword="request",
        )

    def handle(self, event: Any) -> dict[str, Any]:
        if is_scheduled_event(event):
            try:
                scheduled = parse(event=event, model=EventBridgeModel)
            except PARSE_ERRORS as error:
                return self._reject(event, f"malformed scheduled event: {_short(error)}")
            trigger = Trigger(
                reason="scheduled retraining",
                source="schedule",
                event_id=scheduled.id,
                details={"rule": scheduled.resources[:1], "time": scheduled.time.isoformat()},
            )
            return self._run(scheduled.id, trigger, force=True)
        try:
            alarm = parse(event=event, model=AlarmStateChangeEvent)
        except PARSE_ERRORS as error:
            return self._reject(event, f"not an alarm state change or scheduled event: {_short(error)}")
        if alarm.detail_type != ALARM_STATE_CHANGE:
            return self._reject(event, f"unexpected detail-type {alarm.detail_type[:64]!r}")
        name = alarm.detail.alarmName
        if not name.startswith(self.settings.alarm_prefixes):
            self.metrics.add("AlarmsIgnored")
            return {"status": "ignored", "reason": f"alarm {name!r} is not a Keel drift/model-quality alarm"}
        if alarm.detail.state.value != "ALARM":
            self.metrics.add("AlarmsIgnored")
            return {"status": "ignored", "reason": f"alarm {name!r} is {alarm.detail.state.value}, not ALARM"}
        trigger = Trigger(
            reason=f"alarm {name}: {alarm.detail.state.reason}"[:1000],
            source="alarm",
            event_id=alarm.id,
            details={
                "alarm_name": name,
                "alarm_arn": alarm.resources[:1],
                "state": alarm.detail.state.model_dump(),
                "previous_state": alarm.detail.previousState.model_dump()
                if alarm.detail.previousState
                else None,
                "time": alarm.time.isoformat(),
            },
        )
        return self._run(alarm.id, trigger, force=False)

    def _run(self, event_id: str, trigger: Trigger, *, force: bool) -> dict[str, Any]:
        outcome: dict[str, Any] = self._decide_once(
            request={"event_id": event_id, "trigger": trigger.model_dump(mode="json"), "force": force}
        )
        if outcome["status"] == "started":
            outcome["trigger_record"] = self.launcher.record(outcome["execution"], trigger)
            self.metrics.add("RetrainsStarted")
        else:
            self.metrics.add("RetrainsSuppressed")
        return outcome

    def _decide_and_start(self, request: dict[str, Any]) -> dict[str, Any]:
        event_id = request["event_id"]
        claimed = self.state.claim_cooldown(
            self.contract.name,
            event_id,
            cooldown_seconds=self.settings.retrain_cooldown_seconds,
            force=bool(request["force"]),
        )
        if not claimed:
            return {
                "status": "suppressed",
                "reason": f"cool-down: a retraining started less than "
                f"{self.settings.retrain_cooldown_seconds}s ago",
            }
        try:
            execution = self.launcher.start(
                trigger=Trigger.model_validate(request["trigger"]),
                parameters={
                    "InputDataUri": f"s3://{self.settings.raw_bucket}/{self.contract.landing_prefix}",
                    "InputObjectVersion": LATEST_VERSIONS,
                },
                idempotency_key=f"performance#{event_id}",
            )
        except Exception:
            self.state.release_cooldown(self.contract.name, event_id)
            raise
        return {"status": "started", "execution_arn": execution["execution_arn"], "execution": execution}

    def _reject(self, event: Any, reason: str) -> dict[str, Any]:
        self.metrics.add("EventsQuarantined")
        return {
            "status": "quarantined",
            "reason": reason,
            "quarantine": self.quarantine.keep(QUARANTINE_SOURCE, reason, event),
        }


def _short(error: Exception) -> str:
    return str(error).replace("\n", " ")[:300]
