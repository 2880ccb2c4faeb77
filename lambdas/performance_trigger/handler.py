"""Lambda entry point of the performance trigger (logic and semantics: `keel.feedback.performance_trigger`).

Events: CloudWatch `Alarm State Change` of Keel's drift and model-quality alarms, and the optional retraining
schedule. Failures raise, so EventBridge/Lambda retry the event and finally keep it in the dead-letter queue.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger, Metrics

from keel.feedback.names import ENVIRONMENT_DIMENSION
from keel.feedback.runtime import Adapters, Lazy, PowertoolsMetricSink, build_performance_trigger
from keel.feedback.settings import PerformanceTriggerSettings
from keel.tracing import lambda_tracer

if TYPE_CHECKING:
    from keel.feedback.performance_trigger import PerformanceTrigger

logger = Logger()
tracer = lambda_tracer()
metrics = Metrics()
# Built on the first event: the loop's machinery and its AWS clients load with it (keel.feedback.runtime).
runtime: Lazy[PerformanceTrigger] = Lazy(
    lambda: build_performance_trigger(
        PerformanceTriggerSettings.from_environ(), Adapters.from_session(), PowertoolsMetricSink(metrics)
    )
)


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    trigger = runtime.get()
    trigger.idempotency.register_lambda_context(context)
    metrics.add_dimension(name=ENVIRONMENT_DIMENSION, value=trigger.settings.env)
    event_id = event.get("id") if isinstance(event, dict) else None
    try:
        result: dict[str, Any] = trigger.handle(event)
    except Exception:
        logger.exception("event not handled; it will be retried", extra={"event_id": event_id})
        raise
    logger.info("event handled", extra={"event_id": event_id, "result": result})
    return result
