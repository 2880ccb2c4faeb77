"""Lambda entry point of the Macie quarantine: "Macie Finding" events on Keel's raw and feedback buckets.

Thin: parse the event (Powertools parser), run `keel.quarantine.quarantine.handle_event` once per event id
(Powertools idempotency on the DynamoDB table), log, trace and count the outcome.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from keel.eventbridge import EventBridgeEvent
from keel.gate.notify import SnsNotifier
from keel.gate.settings import GovernanceSettings
from keel.quarantine.quarantine import MacieFinding, QuarantineDeps, handle_event
from keel.tracing import lambda_tracer

if TYPE_CHECKING:
    from keel.gate.once import OncePerEvent

logger = Logger()
tracer = lambda_tracer()
metrics = Metrics()


class MacieFindingEvent(EventBridgeEvent):
    detail: MacieFinding


def build_runtime(
    environ: dict[str, str] | None = None, session: Any | None = None
) -> OncePerEvent[QuarantineDeps]:
    import boto3

    # Powertools' idempotency (DynamoDB layer) imports boto3: both load with the runtime, on the first event.
    from keel.gate.once import once_per_event

    settings = GovernanceSettings.from_environ(environ)
    session = session or boto3.session.Session(region_name=settings.region)
    deps = QuarantineDeps(
        settings=settings,
        s3=session.client("s3"),
        notifier=SnsNotifier(session.client("sns"), settings.alert_topic_arn),
    )
    return once_per_event(
        deps,
        lambda d, event: handle_event(d, event).as_dict(),
        settings=settings,
        session=session,
        key_prefix="keel-macie-quarantine",
    )


_runtime: OncePerEvent[QuarantineDeps] | None = None


def runtime() -> OncePerEvent[QuarantineDeps]:
    global _runtime
    if _runtime is None:
        _runtime = build_runtime()
    return _runtime


@logger.inject_lambda_context(log_event=False)
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    quarantine = runtime()
    quarantine.idempotency.register_lambda_context(context)
    parsed = MacieFindingEvent.model_validate(event)
    logger.append_keys(finding_id=parsed.detail.id, event_id=parsed.id)
    result = quarantine.run(event=event)
    metrics.add_dimension(name="Action", value=str(result.get("action")))
    metrics.add_metric(name="MacieQuarantine", unit=MetricUnit.Count, value=1)
    logger.info("macie quarantine result", extra={"result": result})
    return result
