"""Lambda entry point of the Macie classification job provider: run `on_event`, answer CloudFormation."""

from __future__ import annotations

import json
import logging
import urllib.request
from typing import Any

import boto3

from lambdas.macie_job_provider.provider import on_event

logger = logging.getLogger()
logger.setLevel(logging.INFO)


def respond(event: dict[str, Any], status: str, result: dict[str, Any], reason: str = "") -> None:
    body = json.dumps(
        {
            "Status": status,
            "Reason": reason[:1000] or "See the function's log group",
            "PhysicalResourceId": result.get("PhysicalResourceId") or f"failed-{event.get('RequestId', '')}",
            "StackId": event["StackId"],
            "RequestId": event["RequestId"],
            "LogicalResourceId": event["LogicalResourceId"],
            "Data": result.get("Data", {}),
        }
    ).encode()
    request = urllib.request.Request(  # noqa: S310 - the pre-signed https URL comes from CloudFormation
        event["ResponseURL"], data=body, method="PUT", headers={"Content-Type": ""}
    )
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
        logger.info("CloudFormation response sent: HTTP %s", response.status)


def lambda_handler(event: dict[str, Any], _context: object) -> None:
    logger.info("Request %s %s", event.get("RequestType"), event.get("LogicalResourceId"))
    try:
        result = on_event(event, boto3.client("macie2"))
    except Exception as error:
        # Always answer: a provider that never responds hangs the stack for an hour.
        logger.exception("Request failed")
        respond(event, "FAILED", {"PhysicalResourceId": event.get("PhysicalResourceId")}, str(error))
        return
    respond(event, "SUCCESS", result)
