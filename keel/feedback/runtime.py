"""Wire each feedback function from its environment: settings, boto3 adapters, Powertools idempotency.

The Lambda handlers call `build_*()` once per container. The local runner calls the handlers in-process with
the same environment (`keel.feedback.settings.function_environment`) plus AWS_ENDPOINT_URL and fake
credentials, or builds a runtime here with its own adapters (e.g. a `PipelineStarter` that runs the steps).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from keel.feedback.aws import (
    CloudWatchMetricPublisher,
    GluePartitionRegistrar,
    S3ObjectStore,
    SageMakerPipelineStarter,
    client,
)
from keel.feedback.ports import (
    CapturedInputs,
    Clock,
    MetricPublisher,
    MetricSink,
    ObjectStore,
    PartitionRegistrar,
    PipelineStarter,
)

# Each builder imports its own loop's machinery, so a handler loads only its loop (not the Kinesis batch
# parsing of the stream, the corrections of the human loop, ...), and only when its runtime is built.
if TYPE_CHECKING:
    from keel.feedback.data_trigger import DataTrigger
    from keel.feedback.feedback_ingest import FeedbackIngest
    from keel.feedback.idempotency import Idempotency
    from keel.feedback.launch import Launcher
    from keel.feedback.performance_trigger import PerformanceTrigger
    from keel.feedback.settings import (
        DataTriggerSettings,
        FeedbackIngestSettings,
        PerformanceTriggerSettings,
        StreamIngestSettings,
    )
    from keel.feedback.state import StateStore
    from keel.feedback.stream_ingest import StreamIngest

T = TypeVar("T")


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class Adapters:
    """The AWS-facing parts of a runtime; any of them may be replaced (tests, the local runner)."""

    dynamodb: Any
    objects: ObjectStore
    starter: PipelineStarter
    partitions: PartitionRegistrar
    publisher: MetricPublisher
    clock: Clock = utc_now

    @classmethod
    def from_session(cls, session: Any | None = None, **overrides: Any) -> Adapters:
        if session is None:
            import boto3

            session = boto3.session.Session()
        values: dict[str, Any] = {
            "dynamodb": client(session, "dynamodb"),
            "objects": S3ObjectStore(client(session, "s3")),
            "starter": SageMakerPipelineStarter(client(session, "sagemaker")),
            "partitions": GluePartitionRegistrar(client(session, "glue")),
            "publisher": CloudWatchMetricPublisher(client(session, "cloudwatch")),
        }
        return cls(**(values | overrides))


def _idempotency(settings: Any, adapters: Adapters) -> Idempotency:
    from keel.feedback.idempotency import Idempotency

    def persistence() -> Any:
        # Powertools' DynamoDB layer imports boto3: loaded with the layer, when the first event is handled.
        from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer

        return DynamoDBPersistenceLayer(table_name=settings.idempotency_table, boto3_client=adapters.dynamodb)

    return Idempotency(persistence, ttl_seconds=settings.idempotency_ttl_seconds)


def _state(settings: Any, adapters: Adapters) -> StateStore:
    from keel.feedback.state import StateStore

    return StateStore(adapters.dynamodb, settings.state_table, clock=lambda: adapters.clock().timestamp())


def _launcher(settings: Any, adapters: Adapters, state: StateStore) -> Launcher:
    from keel.feedback.launch import Launcher

    return Launcher(
        environment=settings.env,
        contract=settings.contract,
        pipeline_name=settings.pipeline_name,
        reports_bucket=settings.reports_bucket,
        starter=adapters.starter,
        objects=adapters.objects,
        state=state,
        clock=adapters.clock,
    )


def build_data_trigger(settings: DataTriggerSettings, adapters: Adapters, metrics: MetricSink) -> DataTrigger:
    from keel.contract import load_contract
    from keel.feedback.data_trigger import DataTrigger
    from keel.feedback.quarantine import Quarantine

    state = _state(settings, adapters)
    return DataTrigger(
        settings=settings,
        contract=load_contract(settings.contract),
        state=state,
        launcher=_launcher(settings, adapters, state),
        quarantine=Quarantine(adapters.objects, settings.raw_bucket, adapters.clock),
        metrics=metrics,
        idempotency=_idempotency(settings, adapters),
        clock=adapters.clock,
    )


def build_stream_ingest(
    settings: StreamIngestSettings, adapters: Adapters, metrics: MetricSink, logger: Any = None
) -> StreamIngest:
    from keel.contract import load_contract
    from keel.feedback.quarantine import Quarantine
    from keel.feedback.stream_ingest import StreamIngest

    state = _state(settings, adapters)
    return StreamIngest(
        settings=settings,
        contract=load_contract(settings.contract),
        state=state,
        launcher=_launcher(settings, adapters, state),
        objects=adapters.objects,
        quarantine=Quarantine(adapters.objects, settings.raw_bucket, adapters.clock),
        partitions=adapters.partitions,
        metrics=metrics,
        idempotency=_idempotency(settings, adapters),
        clock=adapters.clock,
        logger=logger,
    )


def build_performance_trigger(
    settings: PerformanceTriggerSettings, adapters: Adapters, metrics: MetricSink
) -> PerformanceTrigger:
    from keel.contract import load_contract
    from keel.feedback.performance_trigger import PerformanceTrigger
    from keel.feedback.quarantine import Quarantine

    state = _state(settings, adapters)
    return PerformanceTrigger(
        settings=settings,
        contract=load_contract(settings.contract),
        state=state,
        launcher=_launcher(settings, adapters, state),
        quarantine=Quarantine(adapters.objects, settings.reports_bucket, adapters.clock),
        metrics=metrics,
        idempotency=_idempotency(settings, adapters),
        clock=adapters.clock,
    )


def build_feedback_ingest(
    settings: FeedbackIngestSettings,
    adapters: Adapters,
    metrics: MetricSink,
    logger: Any = None,
    captured: CapturedInputs | None = None,
) -> FeedbackIngest:
    from keel.contract import load_contract
    from keel.feedback.corrections import feedback_contract
    from keel.feedback.feedback_ingest import FeedbackIngest
    from keel.feedback.merge import S3CapturedInputs
    from keel.feedback.ports import NoCapturedInputs
    from keel.feedback.quarantine import Quarantine

    dataset = load_contract(settings.contract)
    if captured is None:
        captured = (
            S3CapturedInputs(adapters.objects, settings.capture_uri, dataset)
            if settings.capture_uri
            else NoCapturedInputs()
        )
    return FeedbackIngest(
        settings=settings,
        dataset=dataset,
        feedback=feedback_contract(dataset),
        state=_state(settings, adapters),
        objects=adapters.objects,
        quarantine=Quarantine(adapters.objects, settings.feedback_bucket, adapters.clock),
        partitions=adapters.partitions,
        publisher=adapters.publisher,
        captured=captured,
        metrics=metrics,
        idempotency=_idempotency(settings, adapters),
        clock=adapters.clock,
        logger=logger,
    )


@dataclass
class LocalContext:
    """The parts of the Lambda context Powertools reads, for in-process invocations."""

    function_name: str = "keel-local"
    memory_limit_in_mb: int = 512
    timeout_seconds: int = 60
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    function_version: str = "$LATEST"
    log_group_name: str = "/aws/lambda/keel-local"
    log_stream_name: str = "local"

    @property
    def invoked_function_arn(self) -> str:
        return f"arn:aws:lambda:us-east-1:123456789012:function:{self.function_name}"

    def get_remaining_time_in_millis(self) -> int:
        return self.timeout_seconds * 1000


class Lazy(Generic[T]):
    """A value built on first use (a handler's runtime, from the environment of its container)."""

    def __init__(self, factory: Callable[[], T]) -> None:
        self._factory = factory
        self._value: T | None = None

    def get(self) -> T:
        if self._value is None:
            self._value = self._factory()
        return self._value

    def set(self, value: T | None) -> None:
        """Replace the value (tests, local runner); None rebuilds it from the environment on next use."""
        self._value = value


class PowertoolsMetricSink:
    """Operational counters as Powertools EMF metrics (flushed by the handler's `log_metrics`)."""

    def __init__(self, metrics: Any) -> None:
        self._metrics = metrics

    def add(self, name: str, value: float = 1) -> None:
        from aws_lambda_powertools.metrics import MetricUnit

        self._metrics.add_metric(name=name, unit=MetricUnit.Count, value=value)
