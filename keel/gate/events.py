"""EventBridge events the governance functions receive, built locally where the service emits none.

moto emits no "SageMaker Model Package State Change" and Macie runs no scans locally: the local runner builds
the events here and hands them to the same code the Lambdas run (`keel.gate.decide.handle_event`,
`keel.quarantine.quarantine.handle_event`, or the handlers themselves).
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from keel.gate.decide import EVENT_DETAIL_TYPE, EVENT_SOURCE


def model_package_state_change(
    model_package_arn: str,
    approval_status: str = "PendingManualApproval",
    *,
    event_id: str | None = None,
    last_modified_by: dict[str, Any] | None = None,
    package_status: str = "Completed",
) -> dict[str, Any]:
    """A "SageMaker Model Package State Change" event shaped like the service's (detail mirrors
    DescribeModelPackage)."""
    _, _, _, region, account, resource = model_package_arn.split(":", 5)
    _, group, version = resource.split("/")
    detail: dict[str, Any] = {
        "ModelPackageGroupName": group,
        "ModelPackageVersion": int(version),
        "ModelPackageArn": model_package_arn,
        "ModelApprovalStatus": approval_status,
        "ModelPackageStatus": package_status,
    }
    if last_modified_by:
        detail["LastModifiedBy"] = last_modified_by
    return {
        "version": "0",
        "id": event_id or str(uuid.uuid4()),
        "detail-type": EVENT_DETAIL_TYPE,
        "source": EVENT_SOURCE,
        "account": account,
        "time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": region,
        "resources": [model_package_arn],
        "detail": detail,
    }


def macie_finding(
    bucket: str,
    key: str,
    version_id: str | None,
    *,
    finding_id: str,
    finding_type: str = "SensitiveData:S3Object/Personal",
    severity: str = "High",
    account: str = "123456789012",
    region: str = "us-east-1",
    event_id: str | None = None,
) -> dict[str, Any]:
    """A "Macie Finding" event for one object (detail mirrors Macie's Finding object)."""
    s3_object: dict[str, Any] = {"bucketArn": f"arn:aws:s3:::{bucket}", "key": key}
    if version_id:
        s3_object["versionId"] = version_id
    return {
        "version": "0",
        "id": event_id or str(uuid.uuid4()),
        "detail-type": "Macie Finding",
        "source": "aws.macie",
        "account": account,
        "time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": region,
        "resources": [],
        "detail": {
            "schemaVersion": "1.0",
            "id": finding_id,
            "accountId": account,
            "region": region,
            "type": finding_type,
            "category": "CLASSIFICATION",
            "severity": {"description": severity},
            "archived": False,
            "resourcesAffected": {
                "s3Bucket": {"name": bucket, "arn": f"arn:aws:s3:::{bucket}"},
                "s3Object": s3_object,
            },
        },
    }
