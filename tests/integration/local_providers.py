"""Custom-resource providers that the integration tests register on the local server (by file path).

`on_event` is a minimal Macie classification-job provider with the same contract as Keel's real one
(`lambdas.macie_job_provider.provider.on_event(event, macie_client)`): it lets the custom-resource path
be tested on its own. `on_event_failing` always fails, to test how failures surface.
"""

from __future__ import annotations

from typing import Any


def _create(event: dict[str, Any], macie2: Any) -> dict[str, Any]:
    properties = event["ResourceProperties"]
    job = macie2.create_classification_job(
        clientToken=event["RequestId"],
        name=properties["JobName"],
        jobType="SCHEDULED",
        scheduleFrequency={"dailySchedule": {}},
        initialRun=properties.get("InitialRun", "false") == "true",
        s3JobDefinition={
            "bucketDefinitions": [{"accountId": properties["AccountId"], "buckets": properties["Buckets"]}]
        },
    )
    return {"PhysicalResourceId": job["jobId"], "Data": {"JobArn": job["jobArn"]}}


def on_event(event: dict[str, Any], macie2: Any) -> dict[str, Any]:
    request = event["RequestType"]
    if request == "Create":
        return _create(event, macie2)
    if request == "Update":
        # A classification job cannot be changed: a new one replaces it, CloudFormation deletes the old.
        return _create(event, macie2)
    job = macie2.describe_classification_job(jobId=event["PhysicalResourceId"])
    if job["jobStatus"] != "CANCELLED":
        macie2.update_classification_job(jobId=event["PhysicalResourceId"], jobStatus="CANCELLED")
    return {"PhysicalResourceId": event["PhysicalResourceId"], "Data": {}}


def on_event_failing(event: dict[str, Any]) -> dict[str, Any]:
    raise RuntimeError(f"provider refuses {event['RequestType']}")
