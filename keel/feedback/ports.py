"""The interfaces every AWS call of the feedback loops goes through.

`keel.feedback.aws` implements them with boto3; tests and the local runner may provide their own (moto runs
no pipeline steps, so the local runner can, for example, start executions with its own `PipelineStarter`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

Clock = Callable[[], datetime]


@dataclass(frozen=True)
class StartRequest:
    pipeline_name: str
    parameters: Mapping[str, str]
    display_name: str
    description: str
    # Sent as SageMaker's ClientRequestToken: a retried start of the same request is one execution in AWS.
    idempotency_token: str


@dataclass(frozen=True)
class StartedExecution:
    execution_arn: str

    @property
    def execution_id(self) -> str:
        return self.execution_arn.rsplit("/", 1)[-1]


class PipelineStarter(Protocol):
    def start(self, request: StartRequest) -> StartedExecution: ...


@dataclass(frozen=True)
class StoredObject:
    uri: str
    version_id: str | None


class ObjectStore(Protocol):
    """S3 access: writes are whole objects, so retried writes of the same key replace, never append."""

    def put(
        self,
        bucket: str,
        key: str,
        body: bytes,
        *,
        content_type: str,
        metadata: Mapping[str, str] | None = None,
    ) -> StoredObject: ...

    def get(self, bucket: str, key: str, *, version_id: str | None = None, max_bytes: int) -> bytes: ...

    def list_keys(self, bucket: str, prefix: str) -> list[str]: ...


class PartitionRegistrar(Protocol):
    """Registers a Hive partition (e.g. `ingest_date=2026-11-02`) of a Glue table; existing ones are kept."""

    def ensure_partition(self, database: str, table: str, values: Sequence[str], location: str) -> None: ...


class MetricPublisher(Protocol):
    """Publishes a metric as (value, count) pairs, e.g. accuracy samples [(1.0, 9), (0.0, 1)]."""

    def publish(
        self,
        namespace: str,
        name: str,
        dimensions: Mapping[str, str],
        samples: Sequence[tuple[float, int]],
        *,
        timestamp: datetime,
    ) -> None: ...


class MetricSink(Protocol):
    """Operational counters (Powertools EMF metrics in Lambda)."""

    def add(self, name: str, value: float = 1) -> None: ...


@dataclass
class CountingSink:
    """A MetricSink that keeps totals in memory (tests, the local runner)."""

    totals: dict[str, float] = field(default_factory=dict)

    def add(self, name: str, value: float = 1) -> None:
        self.totals[name] = self.totals.get(name, 0) + value


class CapturedInputs(Protocol):
    """The model inputs captured at inference time, by prediction (inference) id."""

    def lookup(self, prediction_ids: Sequence[str]) -> dict[str, dict[str, Any]]: ...


class NoCapturedInputs:
    """No endpoint data capture deployed: corrections are stored, not yet merged into training data."""

    def lookup(self, prediction_ids: Sequence[str]) -> dict[str, dict[str, Any]]:  # noqa: ARG002
        return {}
