"""Concurrent invocations of the data trigger (threads, each its own runtime as concurrent Lambda containers
are) against in-process moto: every object lands in exactly one window, duplicates are recorded once,
each window starts exactly one execution, and the joins leave the counters exact."""

from __future__ import annotations

import json
import random
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from typing import Any

import pytest
from moto.dynamodb.responses import DynamoHandler

from keel.feedback.events import s3_object_created_event, scheduled_event
from keel.feedback.runtime import Adapters
from keel.feedback.state import StateConflictError
from tests.unit.feedback.conftest import START, Aws, Clock

LANDING = "landing/wine_quality/"
SWEEP = "arn:aws:events:us-east-1:123456789012:rule/keel-local-sweep"
THREADS = 4


@pytest.fixture
def atomic_dynamodb(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """DynamoDB applies each request atomically; in-process moto does not (a condition is checked, then the
    write is made, in Python), so the requests are serialised here. Their interleaving stays free."""
    lock = threading.Lock()
    original = DynamoHandler.call_action

    def call_action(self: DynamoHandler) -> Any:
        with lock:
            return original(self)

    monkeypatch.setattr(DynamoHandler, "call_action", call_action)
    yield


def deliver(aws: Aws, events: list[dict[str, Any]]) -> Counter[str]:
    """Deliver the events over THREADS workers with their own runtimes and clocks (each event handled one
    second after its time); a failed invocation is delivered again (as Lambda retries it). Returns the
    failures by exception type."""
    clocks = [Clock() for _ in range(THREADS)]
    # Clients are made here, not in the threads (a boto3 session is not thread-safe).
    triggers = [aws.data_trigger(Adapters.from_session(aws.session, clock=clock)) for clock in clocks]
    failures: Counter[str] = Counter()
    lock = threading.Lock()

    def work(worker: int) -> None:
        for event in events[worker::THREADS]:
            clocks[worker].now = datetime.fromisoformat(event["time"]) + timedelta(seconds=1)
            for _ in range(5):
                try:
                    triggers[worker].handle(event)
                    break
                except StateConflictError as error:
                    with lock:
                        failures[type(error).__name__] += 1
                    time.sleep(0.05)  # the platform retries later
            else:
                raise AssertionError(f"event {event['id']} failed 5 times")

    with ThreadPoolExecutor(THREADS) as pool:
        list(pool.map(work, range(THREADS)))
    return failures


def object_events(aws: Aws, count: int, *, seconds: float, folder: str) -> list[dict[str, Any]]:
    raw = aws.data_trigger().settings.raw_bucket
    return [
        s3_object_created_event(
            raw,
            f"{LANDING}ingest_date=2026-11-02/{folder}/part-{i}.csv",
            version_id=uuid.uuid4().hex,
            size=10,
            time=START + timedelta(seconds=seconds * i / count),
        )
        for i in range(count)
    ]


def trigger_objects(aws: Aws, trigger: Any) -> Counter[str]:
    listed: Counter[str] = Counter()
    for execution in aws.executions():
        execution_id = execution["PipelineExecutionArn"].rsplit("/", 1)[-1]
        record = json.loads(
            aws.read(trigger.settings.reports_bucket, f"lineage/triggers/{execution_id}.json")
        )
        for obj in record["trigger"]["details"]["objects"]:
            listed[f"{obj['uri']}#{obj['version_id']}"] += 1
    return listed


def sent(events: list[dict[str, Any]]) -> set[str]:
    return {
        f"s3://{e['detail']['bucket']['name']}/{e['detail']['object']['key']}#{e['detail']['object']['version-id']}"
        for e in events
    }


def test_a_concurrent_burst_with_duplicates_starts_one_execution_with_every_object_once(
    aws: Aws, atomic_dynamodb: None
) -> None:
    events = object_events(aws, 120, seconds=60, folder="burst")
    deliveries = events + events  # every event twice, the copies racing each other
    random.Random(7).shuffle(deliveries)
    # A copy that finds the other copy still writing fails, and its retry finds the object recorded.
    assert set(deliver(aws, deliveries)) <= {"RecordInProgressError"}
    aws.clock.now = START + timedelta(seconds=61)
    trigger = aws.data_trigger()
    [window_id] = trigger.state.open_windows("wine_quality")
    header = aws.client("dynamodb").get_item(
        TableName=trigger.settings.state_table,
        Key={"pk": {"S": f"window#{window_id}"}, "sk": {"S": "#header"}},
    )["Item"]
    assert int(header["joined"]["N"]) == len(events)  # the duplicates' joins were undone
    aws.clock.advance(300)
    assert len(trigger.handle(scheduled_event(SWEEP, time=aws.clock()))["started"]) == 1
    listed = trigger_objects(aws, trigger)
    assert set(listed) == sent(events) and set(listed.values()) == {1}
    assert aws.metrics.totals["ObjectsRedelivered"] == len(events)


def test_concurrent_objects_across_window_boundaries_land_in_exactly_one_window(
    aws: Aws, atomic_dynamodb: None
) -> None:
    # 1,000 s of objects with a 300-s debounce: windows open, join and close while objects land.
    events = object_events(aws, 160, seconds=1000, folder="spread")
    deliver(aws, events + events[::5])  # some redelivered
    trigger = aws.data_trigger()
    aws.clock.now = START + timedelta(seconds=1400)
    trigger.handle(scheduled_event(SWEEP, time=aws.clock()))
    assert trigger.state.open_windows("wine_quality") == {}
    listed = trigger_objects(aws, trigger)
    assert set(listed) == sent(events) and set(listed.values()) == {1}
    assert len(aws.executions()) >= 3
