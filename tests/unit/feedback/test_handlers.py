"""The Lambda handlers themselves, configured only by the environment the stack sets (as the local runner
calls them), against in-process moto; and property-based fuzzing of every handler's event input: whatever
arrives, the handler answers (quarantine, refusal, partial failure) instead of losing the event."""

from __future__ import annotations

import copy
import importlib
import json
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from keel.feedback.events import (
    alarm_state_change_event,
    api_correction_event,
    kinesis_event,
    s3_object_created_event,
    scheduled_event,
)
from keel.feedback.names import FeedbackFunction, ingest_stream_name
from keel.feedback.runtime import LocalContext
from keel.feedback.settings import function_environment
from keel.naming import AlarmKind, BucketPurpose, alarm_name, bucket_name
from tests.unit.feedback.conftest import Aws

FUZZ = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=12,
)


@pytest.fixture
def handlers(aws: Aws, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """Each function's handler module, with its environment set as the stack sets it."""

    loaded: dict[FeedbackFunction, Any] = {}

    def load(function: FeedbackFunction, **overrides: str) -> Any:
        if function not in loaded:  # once per test: hypothesis runs the body once per example
            for key, value in (function_environment(aws.config, function) | overrides).items():
                monkeypatch.setenv(key, value)
            loaded[function] = importlib.import_module(f"lambdas.{function.value}.handler")
            loaded[function].runtime.set(None)  # rebuilt from this environment (and this moto) on first use
        return loaded[function]

    yield load
    for function in FeedbackFunction:
        importlib.import_module(f"lambdas.{function.value}.handler").runtime.set(None)


def invoke(module: Any, event: Any) -> Any:
    return module.lambda_handler(event, LocalContext(function_name=module.__name__.split(".")[1]))


def mutations(event: dict[str, Any]) -> st.SearchStrategy[Any]:
    """The event with one nested field replaced by arbitrary JSON or removed, or arbitrary JSON instead."""
    paths: list[tuple[Any, ...]] = []

    def walk(node: Any, path: tuple[Any, ...]) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                paths.append((*path, key))
                walk(value, (*path, key))
        elif isinstance(node, list):
            for index, value in enumerate(node):
                paths.append((*path, index))
                walk(value, (*path, index))

    walk(event, ())

    def mutate(path: tuple[Any, ...], value: Any, remove: bool) -> Any:
        changed = copy.deepcopy(event)
        parent = changed
        for part in path[:-1]:
            parent = parent[part]
        if remove and isinstance(parent, dict):
            del parent[path[-1]]
        else:
            parent[path[-1]] = value
        return changed

    return st.one_of(JSON, st.builds(mutate, st.sampled_from(paths), JSON, st.booleans()))


def test_data_trigger_handler_duplicates_start_one_execution(aws: Aws, handlers: Any) -> None:
    module = handlers(FeedbackFunction.DATA_TRIGGER, KEEL_DEBOUNCE_SECONDS="0")
    raw = bucket_name(aws.config, BucketPurpose.RAW)
    key = "landing/wine_quality/ingest_date=2026-11-02/a.csv"
    event = s3_object_created_event(raw, key, version_id=aws.put(raw, key, b"x,y\n1,2\n"), size=8)
    results = [invoke(module, event) for _ in range(5)]
    assert [len(r["started"]) for r in results] == [1, 0, 0, 0, 0]
    assert len(aws.executions()) == 1


def test_performance_trigger_handler_starts_on_an_alarm(aws: Aws, handlers: Any) -> None:
    module = handlers(FeedbackFunction.PERFORMANCE_TRIGGER)
    alarm = {"AlarmName": alarm_name(aws.config, AlarmKind.DRIFT, "ph"), "StateValue": "ALARM"}
    assert invoke(module, alarm_state_change_event(alarm))["status"] == "started"


def test_stream_handler_reports_no_failures_for_a_good_batch(aws: Aws, handlers: Any) -> None:
    module = handlers(FeedbackFunction.STREAM_INGEST)
    event = kinesis_event(
        [b"{}"], stream_arn=f"arn:aws:kinesis:us-east-1:1:stream/{ingest_stream_name(aws.config)}"
    )
    assert invoke(module, event) == {"batchItemFailures": []}


def test_feedback_handler_answers_the_api(aws: Aws, handlers: Any) -> None:
    module = handlers(FeedbackFunction.FEEDBACK_INGEST)
    body = {"prediction_id": "p-1", "predicted": 5, "corrected_label": 6, "reviewer": "alice"}
    assert invoke(module, api_correction_event(body))["statusCode"] == 201


@FUZZ
@given(data=st.data())
def test_fuzz_data_trigger(aws: Aws, handlers: Any, data: st.DataObject) -> None:
    module = handlers(FeedbackFunction.DATA_TRIGGER)
    raw = bucket_name(aws.config, BucketPurpose.RAW)
    base = s3_object_created_event(raw, "landing/wine_quality/d/a.csv", version_id="v1", size=10)
    event = data.draw(st.one_of(mutations(base), mutations(scheduled_event("arn:aws:events:::rule/s"))))
    result = invoke(module, event)
    assert result["status"] in {"recorded", "ignored", "rejected", "quarantined", "swept"}


@FUZZ
@given(data=st.data())
def test_fuzz_stream_ingest(aws: Aws, handlers: Any, data: st.DataObject) -> None:
    module = handlers(FeedbackFunction.STREAM_INGEST)
    payloads = data.draw(
        st.lists(st.binary(max_size=50) | JSON.map(lambda v: json.dumps(v).encode()), max_size=4)
    )
    base = kinesis_event(payloads or [b"{}"], stream_arn="arn:aws:kinesis:us-east-1:1:stream/s")
    result = invoke(module, data.draw(mutations(base)))
    assert result == {"batchItemFailures": []}  # bad records are quarantined, never retried forever


@FUZZ
@given(data=st.data())
def test_fuzz_performance_trigger(aws: Aws, handlers: Any, data: st.DataObject) -> None:
    module = handlers(FeedbackFunction.PERFORMANCE_TRIGGER)
    alarm = {"AlarmName": alarm_name(aws.config, AlarmKind.DRIFT, "x"), "StateValue": "ALARM"}
    event = data.draw(mutations(alarm_state_change_event(alarm)))
    assert invoke(module, event)["status"] in {"started", "suppressed", "ignored", "quarantined"}


@FUZZ
@given(data=st.data())
def test_fuzz_feedback_ingest(aws: Aws, handlers: Any, data: st.DataObject) -> None:
    module = handlers(FeedbackFunction.FEEDBACK_INGEST)
    body = data.draw(
        st.fixed_dictionaries(
            {},
            optional={
                "prediction_id": st.text(max_size=8) | JSON,
                "predicted": st.integers(-2, 12) | JSON,
                "corrected_label": st.integers(-2, 12) | JSON,
                "reviewer": st.text(max_size=8) | JSON,
                "comment": JSON,
            },
        )
        | JSON
    )
    feedback = bucket_name(aws.config, BucketPurpose.FEEDBACK)
    event = data.draw(
        mutations(api_correction_event(body))
        | mutations(s3_object_created_event(feedback, "incoming/x.jsonl", version_id=None, size=5))
    )
    try:
        result = invoke(module, event)
    except Exception as error:  # a file event whose object does not exist: raised, so it is retried
        assert "NoSuchKey" in str(error) or "NoSuchBucket" in str(error)
        return
    if "statusCode" in result:
        assert result["statusCode"] in {200, 201, 400, 405, 409, 413}
    else:
        assert result["status"] in {"rejected", "ingested", "quarantined"}
