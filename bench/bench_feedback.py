"""Feedback loops through their Lambda handlers against the local AWS (Keel's moto server if it starts, else
in-process moto): 10,000 S3 object events across debounce windows, and 10,000 Kinesis records in batches of
the configured size. Reports throughput and the executions started, which must equal the windows and the
retraining thresholds crossed. No assertion: results only.

The data trigger's runtime gets a simulated clock (each event is handled one second after its event time),
so that 20 windows of `debounce_seconds` pass in seconds; everything else is what the handler builds from
the environment.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import os
import tempfile
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

S3_EVENTS = int(os.environ.get("KEEL_BENCH_S3_EVENTS", "10000"))
WINDOWS = 20
KINESIS_RECORDS = 10_000
INVALID_EVERY = 50  # one record in fifty breaks the contract (quarantined)
ROW = {
    "fixed acidity": 7.0,
    "volatile acidity": 0.27,
    "citric acid": 0.36,
    "residual sugar": 20.7,
    "chlorides": 0.045,
    "free sulfur dioxide": 45.0,
    "total sulfur dioxide": 170.0,
    "density": 1.001,
    "pH": 3.0,
    "sulphates": 0.45,
    "alcohol": 8.8,
    "quality": 6,
}


@contextlib.contextmanager
def local_aws(account: str, region: str) -> Iterator[str]:
    """Keel's local server (moto + extensions) on a free port; in-process moto if it cannot start."""
    from keel.local import envfile, process

    paths = process.StatePaths(Path(tempfile.mkdtemp(prefix="keel-bench-")))
    try:
        info, _ = process.start(paths, account_id=account, region=region)
    except Exception:  # fall back, and say so in the results
        from moto import mock_aws

        os.environ.update({"AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench"})
        os.environ.pop("AWS_ENDPOINT_URL", None)
        with mock_aws():
            yield "in-process moto"
        return
    os.environ.update(envfile.aws_environment(info.endpoint_url, info.account_id, info.region))
    try:
        yield f"moto server ({info.endpoint_url})"
    finally:
        process.stop(paths)


class _CallCounter:
    """Counts the AWS API calls of every client made from a session (what the handlers' runtimes use)."""

    def __init__(self, session: Any) -> None:
        self.count = 0
        session.events.register("before-call", self._count)

    def _count(self, **_: Any) -> None:
        self.count += 1

    def reset(self) -> None:
        self.count = 0


class _Clock:
    now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now


def _handler(function: Any, config: Any, **overrides: str) -> Any:
    from keel.feedback.settings import function_environment

    os.environ.update(function_environment(config, function) | overrides)
    module = importlib.import_module(f"lambdas.{function.value}.handler")
    module.runtime.set(None)
    return module


def _executions(sagemaker: Any, name: str) -> set[str]:
    arns: set[str] = set()
    for page in sagemaker.get_paginator("list_pipeline_executions").paginate(PipelineName=name):
        arns.update(s["PipelineExecutionArn"] for s in page["PipelineExecutionSummaries"])
    return arns


def _s3_events(config: Any, contract: Any) -> list[dict[str, Any]]:
    from keel.feedback.events import s3_object_created_event
    from keel.naming import BucketPurpose, bucket_name

    raw = bucket_name(config, BucketPurpose.RAW)
    debounce = config.feedback.debounce_seconds
    per_window = S3_EVENTS // WINDOWS
    # Windows in the past and apart from each other, so each one is due once its successor opens.
    first = datetime.now(UTC) - timedelta(days=1)
    events = []
    for window in range(WINDOWS):
        start = first + timedelta(seconds=window * (debounce + 60))
        for index in range(per_window):
            moment = start + timedelta(seconds=index * (debounce - 1) / per_window)
            key = f"{contract.landing_prefix}ingest_date={moment:%Y-%m-%d}/bench-w{window}/part-{index}.csv"
            events.append(
                s3_object_created_event(raw, key, version_id=uuid.uuid4().hex, size=1024, time=moment)
            )
    return events


def _kinesis_batches(config: Any, batch_size: int) -> tuple[list[dict[str, Any]], list[int]]:
    from keel.feedback.events import kinesis_event
    from keel.feedback.names import ingest_stream_name

    arn = f"arn:aws:kinesis:{config.region}:{config.account}:stream/{ingest_stream_name(config)}"
    batches, valid = [], []
    for first in range(0, KINESIS_RECORDS, batch_size):
        payloads = [
            json.dumps({**ROW, "quality": 42} if (first + i) % INVALID_EVERY == 0 else ROW).encode()
            for i in range(min(batch_size, KINESIS_RECORDS - first))
        ]
        batches.append(kinesis_event(payloads, stream_arn=arn, first_sequence=first + 1))
        valid.append(sum(1 for p in payloads if b'"quality": 42' not in p))
    return batches, valid


def _expected_retrains(valid_per_batch: list[int], threshold: int) -> int:
    """The stream loop's rule: a batch that brings the pending count to the threshold starts one retraining,
    which consumes every pending record."""
    pending = retrains = 0
    for valid in valid_per_batch:
        pending += valid
        if pending >= threshold:
            retrains, pending = retrains + 1, 0
    return retrains


def run() -> dict[str, object]:
    # Quiet handlers: Powertools logs and EMF metrics would print a line per event.
    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")
    import boto3

    from keel.config import load_environment
    from keel.contract import load_contract
    from keel.feedback.events import scheduled_event
    from keel.feedback.fixtures import create_feedback_resources
    from keel.feedback.names import FeedbackFunction
    from keel.feedback.runtime import (
        Adapters,
        LocalContext,
        PowertoolsMetricSink,
        build_data_trigger,
        build_stream_ingest,
    )
    from keel.feedback.settings import DataTriggerSettings, StreamIngestSettings
    from keel.naming import pipeline_name

    config = load_environment("local")
    contract = load_contract(config.contract)
    results: dict[str, object] = {}
    with local_aws(config.account, config.region) as backend, Path(os.devnull).open("w") as sink:
        results["backend"] = backend
        session = boto3.session.Session(region_name=config.region)
        calls = _CallCounter(session)
        create_feedback_resources(session, config)
        sagemaker = session.client("sagemaker")
        context = LocalContext()

        data = _handler(FeedbackFunction.DATA_TRIGGER, config)
        clock = _Clock()
        data.runtime.set(
            build_data_trigger(
                DataTriggerSettings.from_environ(),
                Adapters.from_session(session, clock=clock),
                PowertoolsMetricSink(data.metrics),
            )
        )
        events = _s3_events(config, contract)
        before = _executions(sagemaker, pipeline_name(config))
        with contextlib.redirect_stdout(sink):
            calls.reset()
            started = time.perf_counter()
            for event in events:
                clock.now = datetime.fromisoformat(event["time"]) + timedelta(seconds=1)
                data.lambda_handler(event, context)
            clock.now += timedelta(seconds=config.feedback.debounce_seconds + 60)
            data.lambda_handler(scheduled_event("arn:aws:events:::rule/sweep"), context)
            seconds = time.perf_counter() - started
        after = _executions(sagemaker, pipeline_name(config))
        results["s3"] = {
            "events": len(events),
            "windows": WINDOWS,
            "debounce_seconds": config.feedback.debounce_seconds,
            "executions_started": len(after - before),
            "expected_executions": WINDOWS,
            "seconds": round(seconds, 2),
            "events_per_s": round(len(events) / seconds, 1),
            "aws_calls_per_event": round(calls.count / len(events), 2),
        }

        batch_size = config.feedback.stream_batch_size
        stream = _handler(FeedbackFunction.STREAM_INGEST, config)
        stream.runtime.set(
            build_stream_ingest(
                StreamIngestSettings.from_environ(),
                Adapters.from_session(session),
                PowertoolsMetricSink(stream.metrics),
                stream.logger,
            )
        )
        batches, valid = _kinesis_batches(config, batch_size)
        before = after
        with contextlib.redirect_stdout(sink):
            calls.reset()
            started = time.perf_counter()
            failures = sum(
                len(stream.lambda_handler(batch, context)["batchItemFailures"]) for batch in batches
            )
            seconds = time.perf_counter() - started
        after = _executions(sagemaker, pipeline_name(config))
        results["kinesis"] = {
            "records": KINESIS_RECORDS,
            "batch_size": batch_size,
            "valid_records": sum(valid),
            "retrain_after_records": config.feedback.retrain_after_records,
            "executions_started": len(after - before),
            "expected_executions": _expected_retrains(valid, config.feedback.retrain_after_records),
            "failed_records": failures,
            "seconds": round(seconds, 2),
            "records_per_s": round(KINESIS_RECORDS / seconds, 1),
            "aws_calls_per_batch": round(calls.count / len(batches), 2),
        }
    return results
