"""Lambda entry point of the drift publisher (logic: `keel.monitoring.drift_jobs`, `.pipeline_events`).

Events: the drift-check schedule (starts the production drift job), `SageMaker Processing Job State Change`
of Keel's drift jobs (puts the drift metrics from the job's outputs), and `SageMaker Model Building Pipeline
Execution Status Change` of Keel's training pipeline (executions, retrains by reason, validation failures).
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger

from keel.monitoring.aws_errors import CLIENT_CONFIG
from keel.monitoring.publisher import Publisher, build_publisher
from keel.monitoring.runtime_settings import PublisherSettings
from keel.tracing import lambda_tracer

logger = Logger()
tracer = lambda_tracer()
_publisher: list[Publisher] = []


def publisher() -> Publisher:
    if not _publisher:
        import boto3  # with the clients, on the first event (the runtime provides it)

        _publisher.append(
            build_publisher(
                PublisherSettings.from_environ(),
                sagemaker=boto3.client("sagemaker", config=CLIENT_CONFIG),
                s3=boto3.client("s3", config=CLIENT_CONFIG),
                # Not retried by botocore: a retried PutMetricData could count a datapoint twice.
                cloudwatch=boto3.client("cloudwatch"),
            )
        )
    return _publisher[0]


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)
def lambda_handler(event: dict[str, Any], _context: Any) -> dict[str, Any]:
    event_id = event.get("id")
    try:
        result = publisher().handle(event)
    except Exception:
        logger.exception("event not handled; it will be retried", extra={"event_id": event_id})
        raise
    logger.info("event handled", extra={"event_id": event_id, "result": result})
    return result
