"""Lambda entry point of the policy gate: "SageMaker Model Package State Change" events for Keel's group, and
"Keel Lineage Record Written" events for runs that registered a version (the run's evidence is complete).

Thin: parse the event (Powertools parser), run `keel.gate.decide.handle_event` once per event id
(Powertools idempotency on the DynamoDB table), log, trace and count the outcome. A package registered while
its run still executes is deferred (decided on the record announcement, never on missing evidence); a
transient failure (`RetryLaterError`) fails the invocation, which is retried, then kept in the dead-letter
queue.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, ConfigDict, Field

from keel.eventbridge import EventBridgeEvent
from keel.gate.decide import GateDeps, handle_event
from keel.gate.model import Actor
from keel.gate.runtime import gate_deps
from keel.gate.settings import GovernanceSettings
from keel.tracing import lambda_tracer

if TYPE_CHECKING:
    from keel.gate.once import OncePerEvent

logger = Logger()
tracer = lambda_tracer()
metrics = Metrics()


class ModelPackageDetail(BaseModel):
    """The detail of a model package state change, or of Keel's "lineage record written" event (which
    names the package the run registered)."""

    model_config = ConfigDict(extra="allow")

    model_package_arn: str = Field(alias="ModelPackageArn", pattern=r"^arn:aws[a-z-]*:sagemaker:")
    model_approval_status: str | None = Field(default=None, alias="ModelApprovalStatus")


class ModelPackageStateChange(EventBridgeEvent):
    detail: ModelPackageDetail


def build_runtime(
    environ: dict[str, str] | None = None, session: Any | None = None, **overrides: Any
) -> OncePerEvent[GateDeps]:
    """Settings from the environment, AWS clients from the session; `overrides` replace gate_deps() parts
    (the local runner passes `findings=` and `approvals=` since moto lacks Macie and CloudTrail lookups)."""
    import boto3

    # Powertools' idempotency (DynamoDB layer) imports boto3: both load with the runtime, on the first event.
    from keel.gate.once import once_per_event

    settings = GovernanceSettings.from_environ(environ)
    session = session or boto3.session.Session(region_name=settings.region)
    return once_per_event(
        gate_deps(settings, session, **overrides),
        lambda deps, event: handle_event(deps, event).as_dict(),
        settings=settings,
        session=session,
        key_prefix="keel-policy-gate",
    )


_runtime: OncePerEvent[GateDeps] | None = None


def runtime() -> OncePerEvent[GateDeps]:
    global _runtime
    if _runtime is None:
        _runtime = build_runtime()
    return _runtime


@logger.inject_lambda_context(log_event=False)
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    gate = runtime()
    gate.idempotency.register_lambda_context(context)
    parsed = ModelPackageStateChange.model_validate(event)
    gate.deps.actor = Actor(kind="policy-gate", identity=context.invoked_function_arn, source="lambda")
    logger.append_keys(model_package_arn=parsed.detail.model_package_arn, event_id=parsed.id)
    outcome = gate.run(event=event)
    metrics.add_dimension(name="Decision", value=str(outcome.get("decision") or "none"))
    metrics.add_metric(name="GateOutcomes", unit=MetricUnit.Count, value=1)
    logger.info("policy gate outcome", extra={"outcome": outcome})
    return outcome
