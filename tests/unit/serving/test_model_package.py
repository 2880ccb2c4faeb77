"""Approval events and model versions."""

from __future__ import annotations

from typing import Any

import pytest

from keel.config import load_environment
from keel.serving.model_package import EventError, baseline_uri, model_version, parse_approval

ARN = "arn:aws:sagemaker:eu-west-1:111111111111:model-package/keel-dev-models/3"


def event(**detail: Any) -> dict[str, Any]:
    return {
        "id": "e-1",
        "time": "2026-01-01T00:00:00Z",
        "detail-type": "SageMaker Model Package State Change",
        "detail": {
            "ModelPackageGroupName": "keel-dev-models",
            "ModelPackageVersion": 3,
            "ModelPackageArn": ARN,
            "ModelApprovalStatus": "Approved",
        }
        | detail,
    }


def test_an_approval_of_keels_group() -> None:
    approval = parse_approval(event(), "keel-dev-models")
    assert (approval.version, approval.package_arn, approval.event_id) == (3, ARN, "e-1")


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"ModelPackageGroupName": "other"}, "not Keel's"),
        ({"ModelApprovalStatus": "Rejected"}, "not Approved"),
        ({"ModelPackageArn": "nope"}, "malformed"),
    ],
)
def test_other_events_are_not_approvals(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(EventError, match=message):
        parse_approval(event(**changes), "keel-dev-models")
    with pytest.raises(EventError, match="not a model package state change"):
        parse_approval({"detail-type": "Scheduled Event"}, "keel-dev-models")


def test_model_version_and_its_training_baseline() -> None:
    version = model_version(
        {
            "ModelPackageArn": ARN,
            "ModelPackageVersion": 3,
            "ModelApprovalStatus": "Approved",
            "InferenceSpecification": {"Containers": [{"Image": "img", "ModelDataUrl": "s3://a/m.tar.gz"}]},
            "CustomerMetadataProperties": {"keel:execution_id": "exec9"},
            "LastModifiedBy": {"UserProfileName": "reviewer"},
        }
    )
    assert (version.image_uri, version.model_data_url, version.approved_by) == (
        "img",
        "s3://a/m.tar.gz",
        "reviewer",
    )
    config = load_environment("dev")
    assert version.baseline_uri(config) == baseline_uri(config, "exec9")
    assert baseline_uri(config, "exec9") == (
        "s3://keel-dev-artifacts-111111111111-eu-west-1/pipeline/keel-dev-training/exec9/baseline"
    )
    without = model_version({"ModelPackageArn": ARN})
    assert without.version == 3 and without.execution_id is None
    with pytest.raises(ValueError, match="no known baseline"):
        without.baseline_uri(config)
