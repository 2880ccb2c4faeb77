"""Data trigger: objects landing in the raw bucket start the training pipeline, debounced.

An object event is checked (bucket, the contract's landing prefix, extension, size) and recorded in a
debounce window: objects whose event times fall within `debounce_seconds` of the window's first object share
one window. A window closes once its time is over — at the next event, or at the periodic sweep — and
starts exactly one execution: on the object itself (URI + version id) when it holds one object, else on the
deepest prefix holding all of them. The trigger record lists every object and version.

Exactly once: object events are idempotent on the object version: before its item is written, the object
is claimed by a marker keyed by bucket, key and version id (a conditional put naming the window), so a
redelivery — before or after its window started, concurrent or not — finds the marker and records nothing
(a claim whose object never came is taken over after FILL_GRACE_SECONDS; see `StateStore`). A window's
start is idempotent on the window id (Powertools, and a SageMaker ClientRequestToken derived from it); a
failed start leaves the window `closing`, so the failure propagates (the event is retried: its redelivery
closes the due windows again) and the sweep retries it too. Joining is a conditional counter on the window
(no transaction): closing waits until the counted objects are all there (`FILL_GRACE_SECONDS` at most).

Cost of an accepted object (usual case): three single-item DynamoDB writes (join, claim, object); the
window's pointer is read only when the container's cached copy is out of date, and a window is opened with
one transaction. SageMaker is called once per window.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from aws_lambda_powertools.utilities.idempotency.exceptions import IdempotencyAlreadyInProgressError
from aws_lambda_powertools.utilities.parser import parse
from aws_lambda_powertools.utilities.parser.models import S3EventNotificationEventBridgeModel

from keel.contract import DatasetContract
from keel.feedback.events import OBJECT_CREATED, PARSE_ERRORS, is_scheduled_event
from keel.feedback.idempotency import Idempotency
from keel.feedback.launch import Launcher
from keel.feedback.names import DERIVED_FILE_PREFIXES
from keel.feedback.ports import Clock, MetricSink
from keel.feedback.quarantine import Quarantine
from keel.feedback.settings import DataTriggerSettings
from keel.feedback.state import FILL_GRACE_SECONDS, LandedObject, StateStore, Window
from keel.lineage.record import Trigger
from keel.naming import LATEST_VERSIONS

SOURCE = "s3-event"
QUARANTINE_SOURCE = "data-trigger"


@dataclass(frozen=True)
class ObjectCheck:
    verdict: str  # accepted | ignored | rejected
    reason: str = ""


def check_object(
    settings: DataTriggerSettings, contract: DatasetContract, bucket: str, key: str, size: float | None
) -> ObjectCheck:
    """May this object start training? Pure: the event alone decides."""
    if bucket != settings.raw_bucket:
        return ObjectCheck("rejected", f"bucket {bucket!r} is not the raw bucket {settings.raw_bucket!r}")
    if not key.startswith(contract.landing_prefix):
        return ObjectCheck(
            "rejected",
            f"unknown prefix: {key[:200]!r} is not under {contract.landing_prefix!r} ({contract.name})",
        )
    name = key.rsplit("/", 1)[-1]
    if not name:
        return ObjectCheck("ignored", "a folder marker, not a data file")
    if name.startswith(DERIVED_FILE_PREFIXES):
        return ObjectCheck(
            "ignored", "written by Keel's stream or feedback loop, which trigger retraining themselves"
        )
    if not name.lower().endswith(settings.allowed_extensions):
        return ObjectCheck(
            "rejected", f"extension of {name[:100]!r} is not one of {', '.join(settings.allowed_extensions)}"
        )
    if size is None or size <= 0:
        return ObjectCheck("rejected", "empty object (size 0 or unknown)")
    if size > settings.max_object_bytes:
        return ObjectCheck(
            "rejected", f"object of {int(size)} bytes exceeds the limit of {settings.max_object_bytes}"
        )
    return ObjectCheck("accepted")


def window_input(raw_bucket: str, contract: DatasetContract, objects: list[LandedObject]) -> tuple[str, str]:
    """(InputDataUri, InputObjectVersion): the object itself, or the deepest folder holding all objects."""
    if len(objects) == 1:
        only = objects[0]
        return only.uri, only.version_id or LATEST_VERSIONS
    common: list[str] = []
    for segments in zip(*(o.key.split("/")[:-1] for o in objects), strict=False):
        if len(set(segments)) != 1:
            break
        common.append(segments[0])
    folder = "/".join(common) + "/"
    if not folder.startswith(contract.landing_prefix):
        folder = contract.landing_prefix
    return f"s3://{raw_bucket}/{folder}", LATEST_VERSIONS


@dataclass
class DataTrigger:
    settings: DataTriggerSettings
    contract: DatasetContract
    state: StateStore
    launcher: Launcher
    quarantine: Quarantine
    metrics: MetricSink
    idempotency: Idempotency
    clock: Clock

    def __post_init__(self) -> None:
        self._start_once = self.idempotency.wrap(
            self._start, key_prefix="data-trigger.window", key_jmespath="window_id", data_keyword="window"
        )

    # ------------------------------------------------------------------------------------------- entry
    def handle(self, event: Any) -> dict[str, Any]:
        if is_scheduled_event(event):
            started = self.close_due_windows()
            return {"status": "swept", "started": started}
        try:
            parsed = parse(event=event, model=S3EventNotificationEventBridgeModel)
        except PARSE_ERRORS as error:
            return self._reject_event(event, f"not an S3 EventBridge event: {_short(error)}")
        if parsed.detail_type != OBJECT_CREATED:
            return self._reject_event(event, f"unexpected detail-type {parsed.detail_type[:64]!r}")
        detail = parsed.detail
        key = detail.object.key
        check = check_object(self.settings, self.contract, detail.bucket.name, key, detail.object.size)
        if check.verdict == "ignored":
            self.metrics.add("ObjectsIgnored")
            return {"status": "ignored", "reason": check.reason}
        if check.verdict == "rejected":
            self.metrics.add("ObjectsRejected")
            uri = self.quarantine.keep(
                QUARANTINE_SOURCE, check.reason, event, object_uri=f"s3://{detail.bucket.name}/{key}"
            )
            return {"status": "rejected", "reason": check.reason, "quarantine": uri}
        landed = LandedObject(
            bucket=detail.bucket.name,
            key=key,
            version_id=detail.object.version_id,
            size=int(detail.object.size or 0),
            etag=detail.object.etag,
            event_id=parsed.id,
            event_time=parsed.time.isoformat(),
        )
        self.metrics.add("ObjectsAccepted")
        event_time = parsed.time.timestamp()
        # Recording is idempotent on the object version and kept apart from closing windows: a redelivery
        # after a failed start records nothing (in no second window), it only retries the start.
        recorded = self.state.record_landed_object(
            self.contract.name,
            landed,
            event_time=event_time,
            debounce_seconds=self.settings.debounce_seconds,
            # Unique per opening (a closing window's id cannot be reused); readable by its time.
            new_window_id=f"{self.contract.name}-{int(event_time)}-{uuid.uuid4().hex[:12]}",
        )
        if not recorded.new:
            self.metrics.add("ObjectsRedelivered")
        started = self._close_due(recorded.open_windows)
        return {
            "status": "recorded",
            "window_id": recorded.window_id,
            "redelivered": not recorded.new,
            "started": started,
        }

    def _reject_event(self, event: Any, reason: str) -> dict[str, Any]:
        self.metrics.add("EventsQuarantined")
        return {
            "status": "quarantined",
            "reason": reason,
            "quarantine": self.quarantine.keep(QUARANTINE_SOURCE, reason, event),
        }

    # ----------------------------------------------------------------------------------------- windows
    def close_due_windows(self) -> list[str]:
        """Start the executions of every window whose time is over (the periodic sweep)."""
        return self._close_due(self.state.open_windows(self.contract.name))

    def _close_due(self, open_windows: Mapping[str, float]) -> list[str]:
        now = self.clock().timestamp()
        started = []
        for window_id, closes_at in sorted(open_windows.items(), key=lambda item: item[1]):
            if closes_at <= now:
                arn = self.close_window(window_id)
                if arn:
                    started.append(arn)
        return started

    def close_window(self, window_id: str) -> str | None:
        window = self.state.begin_close(window_id)
        if window is None:  # started by a concurrent invocation
            self.state.forget_window(self.contract.name, window_id)
            return None
        objects = sorted(self.state.window_objects(window_id), key=lambda o: (o.event_time, o.key))
        filling = len(objects) < window.joined and window.closing_since is not None
        if filling and self.clock().timestamp() - window.closing_since < FILL_GRACE_SECONDS:  # type: ignore[operator]
            self.metrics.add("WindowsStillFilling")
            return None  # a joiner is between its two writes: the next sweep closes it
        if not objects:
            self.state.forget_window(self.contract.name, window_id)
            return None
        trigger, parameters = self._window_trigger(window, objects)
        try:
            started = self._start_once(
                window={
                    "window_id": window_id,
                    "parameters": parameters,
                    "trigger": trigger.model_dump(mode="json"),
                }
            )
        except IdempotencyAlreadyInProgressError:
            return None  # a concurrent invocation (the sweep, another object) is starting this window
        self.launcher.record(started, trigger)
        self.state.finish_close(self.contract.name, window_id, started["execution_arn"])
        self.metrics.add("ExecutionsStarted")
        return str(started["execution_arn"])

    def _start(self, window: dict[str, Any]) -> dict[str, Any]:
        return self.launcher.start(
            trigger=Trigger.model_validate(window["trigger"]),
            parameters=window["parameters"],
            idempotency_key=f"window#{window['window_id']}",
        )

    def _window_trigger(self, window: Window, objects: list[LandedObject]) -> tuple[Trigger, dict[str, str]]:
        uri, version = window_input(self.settings.raw_bucket, self.contract, objects)
        parameters = {"InputDataUri": uri, "InputObjectVersion": version}
        trigger = Trigger(
            reason=f"{len(objects)} object(s) landed under {uri} within {self.settings.debounce_seconds}s",
            source=SOURCE,
            event_id=objects[0].event_id,
            details={
                "window_id": window.window_id,
                "window_opened_at": window.opened_at,
                "window_closes_at": window.closes_at,
                "debounce_seconds": self.settings.debounce_seconds,
                "input_data_uri": uri,
                "objects": [
                    {
                        "uri": o.uri,
                        "version_id": o.version_id,
                        "size": o.size,
                        "etag": o.etag,
                        "event_id": o.event_id,
                        "event_time": o.event_time,
                    }
                    for o in objects
                ],
            },
        )
        return trigger, parameters


def _short(error: Exception) -> str:
    return str(error).replace("\n", " ")[:300]
