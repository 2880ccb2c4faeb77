"""Fixtures of the feedback loops' tests: in-process moto with the loops' resources, a controllable clock,
and runtimes wired exactly as the handlers wire them (only the clock and, where a test says so, one adapter
differ)."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from keel.config import EnvironmentConfig, Feedback, load_environment
from keel.feedback.fixtures import create_feedback_resources
from keel.feedback.names import FeedbackFunction
from keel.feedback.ports import CountingSink, StartedExecution, StartRequest
from keel.feedback.runtime import (
    Adapters,
    build_data_trigger,
    build_feedback_ingest,
    build_performance_trigger,
    build_stream_ingest,
)
from keel.feedback.settings import settings_for
from keel.naming import pipeline_name

START = datetime(2026, 11, 2, 10, 0, tzinfo=UTC)


@dataclass
class Clock:
    now: datetime = START

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


def throttling(operation: str = "StartPipelineExecution") -> ClientError:
    return ClientError({"Error": {"Code": "ThrottlingException", "Message": "Rate exceeded"}}, operation)


@dataclass
class FlakyStarter:
    """Raises ThrottlingException for the first `failures` starts, then starts for real."""

    inner: Any
    failures: int = 1
    attempts: int = 0

    def start(self, request: StartRequest) -> StartedExecution:
        self.attempts += 1
        if self.attempts <= self.failures:
            raise throttling()
        return self.inner.start(request)  # type: ignore[no-any-return]


@dataclass
class Aws:
    config: EnvironmentConfig
    session: Any
    clock: Clock
    metrics: CountingSink = field(default_factory=CountingSink)

    def client(self, service: str) -> Any:
        return self.session.client(service)

    def adapters(self, **overrides: Any) -> Adapters:
        return Adapters.from_session(self.session, clock=self.clock, **overrides)

    def settings(self, function: FeedbackFunction, **changes: Any) -> Any:
        return settings_for(self.config, function).model_copy(update=changes)

    def data_trigger(self, adapters: Adapters | None = None, **changes: Any) -> Any:
        settings = self.settings(FeedbackFunction.DATA_TRIGGER, **changes)
        return build_data_trigger(settings, adapters or self.adapters(), self.metrics)

    def stream_ingest(self, adapters: Adapters | None = None, **changes: Any) -> Any:
        settings = self.settings(FeedbackFunction.STREAM_INGEST, **changes)
        return build_stream_ingest(settings, adapters or self.adapters(), self.metrics)

    def performance_trigger(self, adapters: Adapters | None = None, **changes: Any) -> Any:
        settings = self.settings(FeedbackFunction.PERFORMANCE_TRIGGER, **changes)
        return build_performance_trigger(settings, adapters or self.adapters(), self.metrics)

    def feedback_ingest(self, adapters: Adapters | None = None, captured: Any = None, **changes: Any) -> Any:
        settings = self.settings(FeedbackFunction.FEEDBACK_INGEST, **changes)
        return build_feedback_ingest(settings, adapters or self.adapters(), self.metrics, captured=captured)

    def executions(self) -> list[dict[str, Any]]:
        sagemaker = self.client("sagemaker")
        summaries = sagemaker.list_pipeline_executions(PipelineName=pipeline_name(self.config))
        return list(summaries["PipelineExecutionSummaries"])

    def parameters(self, execution_arn: str) -> dict[str, str]:
        response = self.client("sagemaker").list_pipeline_parameters_for_execution(
            PipelineExecutionArn=execution_arn
        )
        return {p["Name"]: p["Value"] for p in response["PipelineParameters"]}

    def keys(self, bucket: str, prefix: str = "") -> list[str]:
        response = self.client("s3").list_objects_v2(Bucket=bucket, Prefix=prefix)
        return sorted(item["Key"] for item in response.get("Contents", []))

    def read(self, bucket: str, key: str) -> bytes:
        return bytes(self.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read())

    def put(self, bucket: str, key: str, body: bytes) -> str:
        return str(self.client("s3").put_object(Bucket=bucket, Key=key, Body=body)["VersionId"])


_environments = itertools.count()


@pytest.fixture(scope="module")
def _moto() -> Iterator[None]:
    """One in-process moto per test module: its backends start once (the slow part of a fresh mock)."""
    with mock_aws():
        yield


@pytest.fixture
def aws(_moto: None) -> Aws:
    """A fresh environment (own name, prefix: tables, buckets, pipeline, metrics) on the module's moto."""
    number = next(_environments)
    # The feedback defaults (300-s debounce), not env local's short demo window.
    config = load_environment("local").model_copy(
        update={"name": f"t{number}", "prefix": f"keel-t{number}", "feedback": Feedback()}
    )
    session = boto3.session.Session(region_name=config.region)
    create_feedback_resources(session, config)
    return Aws(config=config, session=session, clock=Clock())


@pytest.fixture(scope="session")
def synth(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    """The stack tests' session synth (same cache: the xdist "synth" group runs them in one worker)."""
    from tests.unit.stacks.conftest import _cache, synthesize

    def get(env_name: str) -> Any:
        if env_name not in _cache:
            _cache[env_name] = synthesize(tmp_path_factory.mktemp(f"cdk-{env_name}"), env_name)
        return _cache[env_name]

    return get
