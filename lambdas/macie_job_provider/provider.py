"""Create, replace and cancel a scheduled Macie classification job from a CloudFormation request.

Macie jobs cannot be edited once created, so an update with changed properties creates a new job (a new
physical id); CloudFormation then deletes the old one, which cancels it. Nothing is deleted from the data.
"""

from __future__ import annotations

from typing import Any, Protocol

RESOURCE_TYPE = "Custom::KeelMacieClassificationJob"
_FREQUENCIES = {
    "DAILY": {"dailySchedule": {}},
    "WEEKLY": {"weeklySchedule": {"dayOfWeek": "MONDAY"}},
    "MONTHLY": {"monthlySchedule": {"dayOfMonth": 1}},
}


class MacieClient(Protocol):
    def create_classification_job(self, **kwargs: Any) -> dict[str, Any]: ...

    def update_classification_job(self, **kwargs: Any) -> dict[str, Any]: ...


class ProviderError(ValueError):
    """The request cannot be carried out; the message is returned to CloudFormation as the reason."""


def job_request(properties: dict[str, Any], *, client_token: str) -> dict[str, Any]:
    """The CreateClassificationJob request for the resource properties, validated."""
    name = properties.get("JobName")
    account_id = properties.get("AccountId")
    buckets = properties.get("BucketNames")
    frequency = properties.get("Frequency", "WEEKLY")
    if not isinstance(name, str) or not name:
        raise ProviderError("JobName is required")
    if not isinstance(account_id, str) or not account_id.isdigit() or len(account_id) != 12:
        raise ProviderError(f"AccountId must be a 12-digit account id, got {account_id!r}")
    if not isinstance(buckets, list) or not buckets or not all(isinstance(b, str) and b for b in buckets):
        raise ProviderError(f"BucketNames must be a non-empty list of bucket names, got {buckets!r}")
    if frequency not in _FREQUENCIES:
        raise ProviderError(f"Frequency must be one of {', '.join(_FREQUENCIES)}, got {frequency!r}")
    tags = properties.get("Tags") or {}
    if not isinstance(tags, dict):
        raise ProviderError("Tags must be a mapping of tag keys to values")
    return {
        "clientToken": client_token,
        "jobType": "SCHEDULED",
        "name": name,
        "description": str(properties.get("Description", "")),
        "s3JobDefinition": {"bucketDefinitions": [{"accountId": account_id, "buckets": sorted(buckets)}]},
        "scheduleFrequency": _FREQUENCIES[frequency],
        "managedDataIdentifierSelector": "RECOMMENDED",
        "initialRun": True,
        "tags": {str(k): str(v) for k, v in tags.items()},
    }


def _properties(event: dict[str, Any], key: str) -> dict[str, Any]:
    properties = dict(event.get(key) or {})
    properties.pop("ServiceToken", None)
    return properties


def on_event(event: dict[str, Any], macie_client: MacieClient) -> dict[str, Any]:
    """Handle one CloudFormation custom-resource request; returns PhysicalResourceId and Data."""
    request_type = event.get("RequestType")
    physical_id = event.get("PhysicalResourceId")
    if request_type == "Delete":
        if physical_id and not physical_id.startswith("failed-"):
            try:
                macie_client.update_classification_job(jobId=physical_id, jobStatus="CANCELLED")
            except Exception as error:
                if "ResourceNotFound" not in type(error).__name__ + str(error):
                    raise
        return {"PhysicalResourceId": physical_id, "Data": {}}
    if request_type not in ("Create", "Update"):
        raise ProviderError(f"unknown RequestType {request_type!r}")
    properties = _properties(event, "ResourceProperties")
    if request_type == "Update" and properties == _properties(event, "OldResourceProperties"):
        return {"PhysicalResourceId": physical_id, "Data": {"JobId": physical_id}}
    request = job_request(properties, client_token=str(event.get("RequestId", "")) or properties["JobName"])
    response = macie_client.create_classification_job(**request)
    return {
        "PhysicalResourceId": response["jobId"],
        "Data": {"JobId": response["jobId"], "JobArn": response["jobArn"]},
    }
