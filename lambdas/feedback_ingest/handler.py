"""Lambda entry point of the human feedback loop (logic and semantics: `keel.feedback.feedback_ingest`).

Events: API Gateway proxy requests (POST /corrections, IAM-authenticated) answered with a status code (a 503
asks the client to retry), and S3 `Object Created` of reviewers' files, which raise on failure so that
EventBridge/Lambda retry them and finally keep them in the dead-letter queue.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger, Metrics

from keel.feedback.names import ENVIRONMENT_DIMENSION
from keel.feedback.runtime import Adapters, Lazy, PowertoolsMetricSink, build_feedback_ingest
from keel.feedback.settings import FeedbackIngestSettings
from keel.tracing import lambda_tracer

if TYPE_CHECKING:
    from keel.feedback.feedback_ingest import FeedbackIngest

logger = Logger()
tracer = lambda_tracer()
metrics = Metrics()
# Built on the first event: the loop's machinery and its AWS clients load with it (keel.feedback.runtime).
runtime: Lazy[FeedbackIngest] = Lazy(
    lambda: build_feedback_ingest(
        FeedbackIngestSettings.from_environ(), Adapters.from_session(), PowertoolsMetricSink(metrics), logger
    )
)


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    ingest = runtime.get()
    ingest.idempotency.register_lambda_context(context)
    metrics.add_dimension(name=ENVIRONMENT_DIMENSION, value=ingest.settings.env)
    try:
        result: dict[str, Any] = ingest.handle(event)
    except Exception:
        logger.exception("feedback file not handled; it will be retried")
        raise
    logger.info("feedback handled", extra={"status": result.get("statusCode", result.get("status"))})
    return result
