"""Lambda entry point of the lineage recorder: SageMaker's "Pipeline Execution Status Change" events of Keel's
pipeline, for the statuses an execution ends with (Succeeded, Failed, Stopped).

Thin: parse the event (Powertools parser), assemble and write the execution's lineage record
(`keel.lineage.recorder`), announce it to the policy gate, log and count. A failure raises: EventBridge
retries the invocation, then keeps the event in the function's dead-letter queue. The record is the same
however often it is written, so no idempotency table is needed.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, ConfigDict, Field

from keel.eventbridge import EventBridgeEvent
from keel.gate.settings import GovernanceSettings
from keel.lineage.assemble import DeployedCode, RecordSources
from keel.lineage.record import ContractRef
from keel.lineage.recorder import LineageRecorder
from keel.tracing import lambda_tracer

logger = Logger()
tracer = lambda_tracer()
metrics = Metrics()

# What the deployment knows of its own code and contract (stacks/governance/stack.py sets them at synth).
CODE_ENVIRONMENT = (
    "KEEL_LINEAGE_CONTRACT_NAME",
    "KEEL_LINEAGE_CONTRACT_VERSION",
    "KEEL_LINEAGE_CONTRACT_SHA256",
    "KEEL_LINEAGE_GIT_COMMIT",
    "KEEL_LINEAGE_GIT_DIRTY",
    "KEEL_LINEAGE_SOURCE_SHA256",
)


class ExecutionStatusDetail(BaseModel):
    model_config = ConfigDict(extra="allow")

    pipeline_execution_arn: str = Field(
        alias="pipelineExecutionArn", pattern=r"^arn:aws[a-z-]*:sagemaker:.+/execution/.+$"
    )
    current_status: str = Field(alias="currentPipelineExecutionStatus")


class ExecutionStatusChange(EventBridgeEvent):
    detail: ExecutionStatusDetail


def deployed_code(environ: Mapping[str, str], environment: str) -> DeployedCode:
    missing = [name for name in CODE_ENVIRONMENT if name not in environ]
    if missing:
        raise ValueError(f"lineage recorder: missing environment variable(s) {', '.join(missing)}")
    dirty = environ["KEEL_LINEAGE_GIT_DIRTY"]
    return DeployedCode(
        environment=environment,
        contract=ContractRef(
            name=environ["KEEL_LINEAGE_CONTRACT_NAME"],
            version=environ["KEEL_LINEAGE_CONTRACT_VERSION"],
            sha256=environ["KEEL_LINEAGE_CONTRACT_SHA256"],
        ),
        git_commit=environ["KEEL_LINEAGE_GIT_COMMIT"] or None,
        git_dirty=None if dirty == "" else dirty == "true",
        source_sha256=environ["KEEL_LINEAGE_SOURCE_SHA256"],
    )


def build_recorder(environ: Mapping[str, str] | None = None, session: Any | None = None) -> LineageRecorder:
    import boto3
    from botocore.config import Config

    environ = os.environ if environ is None else environ
    settings = GovernanceSettings.from_environ(environ)
    session = session or boto3.session.Session(region_name=settings.region)
    # Every call it makes is a read or an idempotent write: transient errors are retried (standard mode).
    retrying = Config(retries={"mode": "standard", "max_attempts": 6})
    s3 = session.client("s3", config=retrying)
    return LineageRecorder(
        sources=RecordSources(
            sagemaker=session.client("sagemaker", config=retrying),
            s3=s3,
            reports_bucket=settings.reports_bucket,
            deployed=deployed_code(environ, settings.env),
        ),
        events=session.client("events", config=retrying),
        kms_key_id=settings.artifacts_key_alias,
    )


_recorder: list[LineageRecorder] = []


def recorder() -> LineageRecorder:
    if not _recorder:
        _recorder.append(build_recorder())
    return _recorder[0]


@logger.inject_lambda_context(log_event=False)
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:  # noqa: ARG001 - Lambda's signature
    parsed = ExecutionStatusChange.model_validate(event)
    logger.append_keys(execution_arn=parsed.detail.pipeline_execution_arn, event_id=parsed.id)
    result = recorder().record(parsed.detail.pipeline_execution_arn)
    metrics.add_dimension(name="ExecutionStatus", value=str(result["execution_status"]))
    metrics.add_metric(name="LineageRecords", unit=MetricUnit.Count, value=1)
    logger.info("lineage record written", extra={"result": result})
    return result
