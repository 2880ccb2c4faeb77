"""Lambda entry point of the model deployer (logic: `keel.serving.deploy`).

Events: `SageMaker Model Package State Change` (Approved, Keel's group) deploys the version with deployment
guardrails; `SageMaker Endpoint State Change` of Keel's endpoint settles the deployment (succeeded, rolled
back, failed) and writes it into the lineage of both versions. A DeploymentError raises, so the event is
retried and finally kept in the dead-letter queue, and the error alarm fires.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger

from keel.serving.deploy import Deployer
from keel.serving.runtime import DeployerSettings, build_deployer, retries
from keel.tracing import lambda_tracer

logger = Logger()
tracer = lambda_tracer()
_deployer: list[Deployer] = []


def deployer() -> Deployer:
    if not _deployer:
        import boto3  # with the clients, on the first event (the runtime provides it)

        _deployer.append(
            build_deployer(
                DeployerSettings.from_environ(),
                sagemaker=boto3.client("sagemaker", config=retries()),
                s3=boto3.client("s3", config=retries()),
                cloudwatch=boto3.client("cloudwatch", config=retries()),
                autoscaling=boto3.client("application-autoscaling", config=retries()),
            )
        )
    return _deployer[0]


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)
def lambda_handler(event: dict[str, Any], _context: Any) -> dict[str, Any]:
    event_id = event.get("id")
    try:
        result = deployer().handle(event)
    except Exception:
        logger.exception("event not handled; it will be retried", extra={"event_id": event_id})
        raise
    logger.info("event handled", extra={"event_id": event_id, "result": result})
    return result
