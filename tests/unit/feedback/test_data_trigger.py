"""Data trigger: checks, debounce windows, exactly-once starts, retries, quarantine, the trigger record."""

from __future__ import annotations

import json

import pytest

from keel.contract import load_contract
from keel.feedback.data_trigger import check_object, window_input
from keel.feedback.events import s3_object_created_event, scheduled_event
from keel.feedback.names import FeedbackFunction
from keel.feedback.settings import settings_for
from keel.feedback.state import LandedObject
from keel.naming import LATEST_VERSIONS, QUARANTINE_PREFIX
from tests.unit.feedback.conftest import Aws, FlakyStarter, throttling

LANDING = "landing/wine_quality/"
SWEEP = "arn:aws:events:us-east-1:123456789012:rule/keel-local-sweep"


def land(aws: Aws, trigger, name: str, *, after: float = 0, event_id: str | None = None) -> dict:
    """Put an object in the raw bucket and deliver its event `after` seconds from now."""
    raw = trigger.settings.raw_bucket
    key = f"{LANDING}ingest_date=2026-11-02/{name}"
    version = aws.put(raw, key, b"fixed acidity,quality\n7.0,6\n")
    aws.clock.advance(after)
    return s3_object_created_event(raw, key, version_id=version, size=26, time=aws.clock(), event_id=event_id)


@pytest.fixture
def settings(aws: Aws):
    return settings_for(aws.config, FeedbackFunction.DATA_TRIGGER)


@pytest.mark.parametrize(
    ("bucket", "key", "size", "verdict", "reason"),
    [
        ("raw", f"{LANDING}d/a.csv", 10, "accepted", ""),
        ("raw", f"{LANDING}d/A.CSV", 10, "accepted", ""),
        ("other", f"{LANDING}d/a.csv", 10, "rejected", "not the raw bucket"),
        ("raw", "elsewhere/a.csv", 10, "rejected", "unknown prefix"),
        ("raw", f"{LANDING}d/a.parquet", 10, "rejected", "extension"),
        ("raw", f"{LANDING}d/a.csv", 0, "rejected", "empty"),
        ("raw", f"{LANDING}d/a.csv", None, "rejected", "empty"),
        ("raw", f"{LANDING}d/a.csv", 2 * 1024**3, "rejected", "exceeds the limit"),
        ("raw", f"{LANDING}d/", 0, "ignored", "folder"),
        ("raw", f"{LANDING}d/stream-shard-1.csv", 10, "ignored", "stream or feedback"),
        ("raw", f"{LANDING}d/feedback-api-1.csv", 10, "ignored", "stream or feedback"),
    ],
)
def test_check_object(settings, bucket, key, size, verdict, reason) -> None:
    bucket = settings.raw_bucket if bucket == "raw" else bucket
    check = check_object(settings, load_contract(), bucket, key, size)
    assert check.verdict == verdict
    assert reason in check.reason


def _landed(key: str, version: str | None = "v1") -> LandedObject:
    return LandedObject("raw", key, version, 1, "e", "id", "2026-11-02T10:00:00+00:00")


def test_window_input_is_the_object_or_the_deepest_common_folder() -> None:
    contract = load_contract()
    one = [_landed(f"{LANDING}ingest_date=2026-11-02/a.csv")]
    assert window_input("raw", contract, one) == (f"s3://raw/{LANDING}ingest_date=2026-11-02/a.csv", "v1")
    same_day = [*one, _landed(f"{LANDING}ingest_date=2026-11-02/b.csv")]
    assert window_input("raw", contract, same_day) == (
        f"s3://raw/{LANDING}ingest_date=2026-11-02/",
        LATEST_VERSIONS,
    )
    two_days = [*one, _landed(f"{LANDING}ingest_date=2026-11-03/b.csv")]
    assert window_input("raw", contract, two_days) == (f"s3://raw/{LANDING}", LATEST_VERSIONS)


def test_objects_within_the_window_start_one_execution_listing_every_object(aws: Aws) -> None:
    trigger = aws.data_trigger()
    events = [land(aws, trigger, f"part-{i}.csv", after=0 if i == 0 else 60) for i in range(4)]
    for event in events:
        assert trigger.handle(event)["started"] == []
    assert aws.executions() == []
    aws.clock.advance(300)
    started = trigger.handle(scheduled_event(SWEEP, time=aws.clock()))["started"]
    assert len(started) == 1 and len(aws.executions()) == 1
    parameters = aws.parameters(started[0])
    assert (
        parameters["InputDataUri"] == f"s3://{trigger.settings.raw_bucket}/{LANDING}ingest_date=2026-11-02/"
    )
    assert parameters["InputObjectVersion"] == LATEST_VERSIONS
    assert parameters["TriggerReason"].startswith("4 object(s) landed")
    execution_id = started[0].rsplit("/", 1)[-1]
    record = json.loads(aws.read(trigger.settings.reports_bucket, f"lineage/triggers/{execution_id}.json"))
    assert record["execution_arn"] == started[0]
    assert record["trigger"]["source"] == "s3-event"
    objects = record["trigger"]["details"]["objects"]
    assert [o["uri"].rsplit("/", 1)[-1] for o in objects] == [f"part-{i}.csv" for i in range(4)]
    assert {o["event_id"] for o in objects} == {e["id"] for e in events}
    assert all(o["version_id"] for o in objects)
    assert trigger.handle(scheduled_event(SWEEP, time=aws.clock()))["started"] == []


def test_an_object_after_the_window_opens_the_next_window_and_closes_the_due_one(aws: Aws) -> None:
    trigger = aws.data_trigger()
    trigger.handle(land(aws, trigger, "a.csv"))
    result = trigger.handle(land(aws, trigger, "b.csv", after=301))
    assert len(result["started"]) == 1
    only = aws.parameters(result["started"][0])
    assert only["InputDataUri"].endswith("/a.csv") and only["InputObjectVersion"]
    aws.clock.advance(301)
    assert len(trigger.close_due_windows()) == 1
    assert len(aws.executions()) == 2


def test_debounce_zero_starts_at_once_per_object(aws: Aws) -> None:
    trigger = aws.data_trigger(debounce_seconds=0)
    assert len(trigger.handle(land(aws, trigger, "a.csv"))["started"]) == 1
    assert len(trigger.handle(land(aws, trigger, "b.csv"))["started"]) == 1
    assert len(aws.executions()) == 2


def test_duplicate_deliveries_start_exactly_one_execution(aws: Aws) -> None:
    trigger = aws.data_trigger(debounce_seconds=0)
    event = land(aws, trigger, "a.csv")
    results = [trigger.handle(event) for _ in range(5)]
    aws.clock.advance(3600)  # redelivered long after its window closed
    results.append(trigger.handle(event))
    assert len(aws.executions()) == 1
    assert sum(len(r["started"]) for r in results) == 1


def test_throttled_start_is_retried_not_dropped(aws: Aws) -> None:
    flaky = FlakyStarter(aws.adapters().starter, failures=2)
    trigger = aws.data_trigger(aws.adapters(starter=flaky), debounce_seconds=0)
    event = land(aws, trigger, "a.csv")
    for _ in range(2):  # the platform retries the event after each failure
        with pytest.raises(Exception, match="ThrottlingException"):
            trigger.handle(event)
    assert aws.executions() == []
    assert len(trigger.handle(event)["started"]) == 1
    assert trigger.handle(event)["started"] == []
    assert len(aws.executions()) == 1 and flaky.attempts == 3


def test_a_failed_start_is_also_retried_by_the_sweep(aws: Aws) -> None:
    flaky = FlakyStarter(aws.adapters().starter, failures=1)
    trigger = aws.data_trigger(aws.adapters(starter=flaky))
    trigger.handle(land(aws, trigger, "a.csv"))
    aws.clock.advance(301)
    with pytest.raises(Exception, match="ThrottlingException"):
        trigger.handle(scheduled_event(SWEEP, time=aws.clock()))
    assert len(trigger.handle(scheduled_event(SWEEP, time=aws.clock()))["started"]) == 1
    assert len(aws.executions()) == 1


def test_throttled_state_table_fails_the_event_for_retry(aws: Aws) -> None:
    trigger = aws.data_trigger()
    event = land(aws, trigger, "a.csv")
    real = trigger.state._client

    class Throttled:
        def __getattr__(self, name):
            if name in ("transact_write_items", "get_item"):

                def fail(**_):
                    raise throttling(name)

                return fail
            return getattr(real, name)

    trigger.state._client = Throttled()
    with pytest.raises(Exception, match="ThrottlingException"):
        trigger.handle(event)
    trigger.state._client = real
    assert trigger.handle(event)["status"] == "recorded"


def test_rejected_objects_and_malformed_events_are_kept_with_the_reason(aws: Aws) -> None:
    trigger = aws.data_trigger()
    raw = trigger.settings.raw_bucket
    rejected = trigger.handle(s3_object_created_event(raw, "elsewhere/x.csv", version_id="v", size=3))
    assert rejected["status"] == "rejected"
    malformed = trigger.handle({"detail-type": "Object Created", "detail": "nonsense"})
    assert malformed["status"] == "quarantined"
    notes = aws.keys(raw, QUARANTINE_PREFIX)
    assert len(notes) == 2
    reasons = {json.loads(aws.read(raw, key))["reason"].split(":")[0] for key in notes}
    assert reasons == {"unknown prefix", "not an S3 EventBridge event"}
    assert aws.executions() == []


def test_ignored_files_start_nothing(aws: Aws) -> None:
    trigger = aws.data_trigger(debounce_seconds=0)
    event = land(aws, trigger, "stream-shardId-000000000000-1.csv")
    assert trigger.handle(event)["status"] == "ignored"
    assert aws.executions() == []


def test_a_closing_window_waits_for_registered_objects_then_gives_up(aws: Aws) -> None:
    trigger = aws.data_trigger()
    trigger.handle(land(aws, trigger, "a.csv"))
    [window_id] = trigger.state.open_windows("wine_quality")
    # A joiner registered on the window but has not written its object yet.
    aws.client("dynamodb").update_item(
        TableName=trigger.settings.state_table,
        Key={"pk": {"S": f"window#{window_id}"}, "sk": {"S": "#header"}},
        UpdateExpression="ADD joined :one",
        ExpressionAttributeValues={":one": {"N": "1"}},
    )
    aws.clock.advance(301)
    assert trigger.close_due_windows() == []
    assert aws.metrics.totals["WindowsStillFilling"] == 1
    aws.clock.advance(121)
    assert len(trigger.close_due_windows()) == 1
