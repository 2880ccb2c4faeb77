"""Lambda entry point of the streaming trigger (logic and semantics: `keel.feedback.stream_ingest`).

Event: a Kinesis batch (event source mapping with ReportBatchItemFailures and BisectBatchOnFunctionError).
Returns `batchItemFailures` (every record from the first one not processed); an error of the batch as a whole
(S3, DynamoDB, SageMaker, or an unprocessed record without a sequence number) raises, so the batch is retried
(bisected) and finally reported to the on-failure queue.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger, Metrics

from keel.feedback.names import ENVIRONMENT_DIMENSION
from keel.feedback.runtime import Adapters, Lazy, PowertoolsMetricSink, build_stream_ingest
from keel.feedback.settings import StreamIngestSettings
from keel.tracing import lambda_tracer

if TYPE_CHECKING:
    from keel.feedback.stream_ingest import StreamIngest

logger = Logger()
tracer = lambda_tracer()
metrics = Metrics()
# Built on the first event: the loop's machinery and its AWS clients load with it (keel.feedback.runtime).
runtime: Lazy[StreamIngest] = Lazy(
    lambda: build_stream_ingest(
        StreamIngestSettings.from_environ(), Adapters.from_session(), PowertoolsMetricSink(metrics), logger
    )
)


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    ingest = runtime.get()
    ingest.idempotency.register_lambda_context(context)
    metrics.add_dimension(name=ENVIRONMENT_DIMENSION, value=ingest.settings.env)
    records = event.get("Records") if isinstance(event, dict) else None
    size = len(records) if isinstance(records, list) else 0
    try:
        result: dict[str, Any] = ingest.handle(event)
    except Exception:
        logger.exception("batch not handled; it will be retried", extra={"records": size})
        raise
    logger.info("batch handled", extra={"records": size, "failures": len(result["batchItemFailures"])})
    return result
