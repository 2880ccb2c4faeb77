"""The drift publisher's event routing and wiring: the schedule starts a drift check, a finished drift job has
its metrics put, a training-pipeline status change becomes pipeline metrics."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from keel.monitoring.drift_jobs import PROCESSING_JOB_DETAIL_TYPE, DriftJobs
from keel.monitoring.pipeline_events import PIPELINE_STATUS_DETAIL_TYPE, PipelineMetrics
from keel.monitoring.runtime_settings import PublisherSettings
from keel.serving.endpoint_service import SageMakerEndpointService
from keel.serving.model_package import SageMakerModelRegistry

SCHEDULED_DETAIL_TYPE = "Scheduled Event"


@dataclass
class Publisher:
    jobs: DriftJobs
    pipeline: PipelineMetrics

    def handle(self, event: dict[str, Any]) -> dict[str, Any]:
        kind = event.get("detail-type")
        if kind == SCHEDULED_DETAIL_TYPE:
            return self.jobs.start()
        if kind == PROCESSING_JOB_DETAIL_TYPE:
            return self.jobs.completed(event)
        if kind == PIPELINE_STATUS_DETAIL_TYPE:
            return self.pipeline.handle(event)
        return {"status": "ignored", "reason": f"unexpected detail-type {kind!r}"}


def build_publisher(
    settings: PublisherSettings,
    *,
    sagemaker: Any,
    s3: Any,
    cloudwatch: Any,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> Publisher:
    jobs = DriftJobs(
        settings,
        sagemaker=sagemaker,
        s3=s3,
        cloudwatch=cloudwatch,
        endpoints=SageMakerEndpointService(sagemaker, autoscaling=None),
        registry=SageMakerModelRegistry(sagemaker),
        clock=clock,
    )
    pipeline = PipelineMetrics(settings, sagemaker=sagemaker, s3=s3, cloudwatch=cloudwatch, clock=clock)
    return Publisher(jobs=jobs, pipeline=pipeline)
