"""Lambda entry point of the data trigger (logic and semantics: `keel.feedback.data_trigger`).

Events: S3 `Object Created` on the raw bucket's landing prefix (EventBridge), and the periodic sweep
(`Scheduled Event`) that closes due debounce windows. Failures raise, so EventBridge/Lambda retry the event
and finally keep it in the dead-letter queue.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger, Metrics

from keel.feedback.names import ENVIRONMENT_DIMENSION
from keel.feedback.runtime import Adapters, Lazy, PowertoolsMetricSink, build_data_trigger
from keel.feedback.settings import DataTriggerSettings
from keel.tracing import lambda_tracer

if TYPE_CHECKING:
    from keel.feedback.data_trigger import DataTrigger

logger = Logger()
tracer = lambda_tracer()
metrics = Metrics()
# Built on the first event: the loop's machinery and its AWS clients load with it (keel.feedback.runtime).
runtime: Lazy[DataTrigger] = Lazy(
    lambda: build_data_trigger(
        DataTriggerSettings.from_environ(), Adapters.from_session(), PowertoolsMetricSink(metrics)
    )
)


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    trigger = runtime.get()
    trigger.idempotency.register_lambda_context(context)
    metrics.add_dimension(name=ENVIRONMENT_DIMENSION, value=trigger.settings.env)
    try:
        result: dict[str, Any] = trigger.handle(event)
    except Exception:
        logger.exception("event not handled; it will be retried", extra={"event_id": _event_id(event)})
        raise
    logger.info("event handled", extra={"event_id": _event_id(event), "result": result})
    return result


def _event_id(event: Any) -> Any:
    return event.get("id") if isinstance(event, dict) else None
