"""SageMaker ML Lineage Tracking as the tracker calls it: botocore's Stubber answers to the service model
(request parameters validated), and `Wire` answers where botocore's retries must see the error."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from keel.lineage.pack import NOT_AVAILABLE, LineagePack
from keel.lineage.tracking import RETRIES, SageMakerLineageTracking, entity_name, register
from tests.unit.lineage.wire import Wire, no_backoff

REGION, ACCOUNT = "us-east-1", "123456789012"
ARN = f"arn:aws:sagemaker:{REGION}:{ACCOUNT}"
PACKAGE_ARN = f"{ARN}:model-package/keel-dev-models/3"
EXECUTION_ARN = f"{ARN}:pipeline/keel-dev-training/execution/abc123"
MODEL_URI = "s3://keel-dev-artifacts/models/abc123/model.tar.gz"
DATA_URI = "s3://keel-dev-landing/wine/ingest_date=2026-11-01/wine.csv"
METRICS_URI = "s3://keel-dev-artifacts/reports/abc123/evaluation.json"
CONTEXT_NAME = "keel-dev-abc123"
ACTION_NAME = "keel-dev-keel-dev-models-v3-approval"
CONTEXT, MODEL, DATASET, METRICS, ACTION = (
    f"{ARN}:context/{CONTEXT_NAME}",
    f"{ARN}:artifact/model0001",
    f"{ARN}:artifact/dataset0001",
    f"{ARN}:artifact/metrics0001",
    f"{ARN}:action/{ACTION_NAME}",
)


def make_pack(*, inputs: bool = True, metrics: bool = True, execution: bool = True) -> LineagePack:
    package = {
        "arn": PACKAGE_ARN,
        "group": "keel-dev-models",
        "version": 3,
        "package_status": "Completed",
        "approval_status": "Approved",
        "approval_description": None,
        "created": None,
        "last_modified": None,
        "image": None,
        "image_digest": None,
        "model_data_url": MODEL_URI,
        "metrics_uri": METRICS_URI if metrics else None,
        "customer_metadata": {},
    }
    run = {
        "arn": EXECUTION_ARN,
        "id": "abc123",
        "pipeline_name": "keel-dev-training",
        "pipeline_arn": None,
        "status": "Succeeded",
        "current_status": "Succeeded",
        "failure_reason": None,
        "started": None,
        "ended": None,
        "definition_sha256": None,
        "parameters": {},
        "steps": [],
    }
    data = {
        "uri": DATA_URI,
        "version_id": "v1",
        "etag": '"0123abcd"',
        "size": 10,
        "sha256": "00" * 32,
        "version_exists": True,
        "quarantined": False,
    }
    return LineagePack.model_validate(
        {
            "generated_at": "2026-11-02T10:00:00+00:00",
            "generator": "test",
            "environment": "dev",
            "model_package": package,
            "lineage_record_uri": None,
            "trigger": None,
            "inputs": [data] if inputs else [],
            "contract": None,
            "validation": None,
            "execution": run if execution else None,
            "code": None,
            "metrics": {"uri": METRICS_URI, "accuracy": 0.7, "document": None} if metrics else None,
            "drift": None,
            "gate_decisions": [],
            "approval": {
                "status": "Approved",
                "decided_by": None,
                "decision_id": "d-1",
                "decided_at": None,
                "via": "policy-gate",
            },
            "deployments": [],
            "deployment_history": [],
            "tracking": {"status": "skipped", "reason": "not requested"},
            "warnings": [],
        }
    )


@pytest.fixture
def sagemaker() -> Any:
    return boto3.client(
        "sagemaker",
        region_name=REGION,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=RETRIES,
    )


@pytest.fixture
def stub(sagemaker: Any) -> Iterator[Stubber]:
    with Stubber(sagemaker) as stubber:
        yield stubber
        stubber.assert_no_pending_responses()


def artifact_name(kind: str, source: str) -> str:
    return entity_name("keel", "dev", kind, hashlib.sha256(f"{kind}|{source}".encode()).hexdigest()[:20])


DATA_SOURCE = f"{DATA_URI}?versionId=v1"
CREATE_CONTEXT = {
    "ContextName": CONTEXT_NAME,
    "ContextType": "KeelTrainingRun",
    "Source": {"SourceUri": EXECUTION_ARN},
}
PROPERTIES = {"status": "Approved", "decision": "d-1"}
CREATE_ACTION = {
    "ActionName": ACTION_NAME,
    "ActionType": "ModelApproval",
    "Status": "Completed",
    "Source": {"SourceUri": PACKAGE_ARN},
    "Properties": PROPERTIES,
}


def association(source: str, destination: str, kind: str) -> tuple[dict[str, str], dict[str, str]]:
    """(AddAssociation response, its expected parameters)."""
    return (
        {"SourceArn": source, "DestinationArn": destination},
        {"SourceArn": source, "DestinationArn": destination, "AssociationType": kind},
    )


def test_a_first_registration_creates_every_entity_and_reads_every_page(
    stub: Stubber, sagemaker: Any
) -> None:
    stub.add_response("create_context", {"ContextArn": CONTEXT}, CREATE_CONTEXT)
    # The model's artifact exists (SageMaker created it with the training job), on the second page.
    stub.add_response(
        "list_artifacts",
        {"ArtifactSummaries": [], "NextToken": "page-2"},
        {"SourceUri": MODEL_URI, "ArtifactType": "Model"},
    )
    stub.add_response(
        "list_artifacts",
        {"ArtifactSummaries": [{"ArtifactArn": MODEL, "ArtifactType": "Model"}]},
        {"SourceUri": MODEL_URI, "ArtifactType": "Model", "NextToken": "page-2"},
    )
    stub.add_response("add_association", *association(CONTEXT, MODEL, "Produced"))
    stub.add_response(
        "list_artifacts", {"ArtifactSummaries": []}, {"SourceUri": DATA_SOURCE, "ArtifactType": "DataSet"}
    )
    stub.add_response(
        "create_artifact",
        {"ArtifactArn": DATASET},
        {
            "ArtifactName": artifact_name("DataSet", DATA_SOURCE),
            "ArtifactType": "DataSet",
            "Source": {
                "SourceUri": DATA_SOURCE,
                "SourceTypes": [{"SourceIdType": "S3ETag", "Value": '"0123abcd"'}],
            },
        },
    )
    stub.add_response("add_association", *association(DATASET, CONTEXT, "ContributedTo"))
    stub.add_response(
        "list_artifacts", {"ArtifactSummaries": []}, {"SourceUri": METRICS_URI, "ArtifactType": "Metrics"}
    )
    stub.add_response(
        "create_artifact",
        {"ArtifactArn": METRICS},
        {
            "ArtifactName": artifact_name("Metrics", METRICS_URI),
            "ArtifactType": "Metrics",
            "Source": {"SourceUri": METRICS_URI},
        },
    )
    stub.add_response("add_association", *association(METRICS, MODEL, "AssociatedWith"))
    stub.add_response("create_action", {"ActionArn": ACTION}, CREATE_ACTION)
    stub.add_response("add_association", *association(MODEL, ACTION, "AssociatedWith"))

    tracking = register(make_pack(), SageMakerLineageTracking(sagemaker)).tracking

    assert (tracking.status, tracking.reason) == ("recorded", "SageMaker ML Lineage Tracking")
    assert tracking.entities == {
        "context:training-run": CONTEXT,
        "artifact:model": MODEL,
        f"artifact:dataset:{DATA_URI}": DATASET,
        "artifact:metrics": METRICS,
        "action:approval": ACTION,
    }


def already(operation: str, what: str) -> dict[str, Any]:
    return {
        "method": operation,
        "service_error_code": "ValidationException",
        "service_message": f"{what} already exists.",
        "http_status_code": 400,
    }


def test_a_second_registration_finds_what_exists_and_updates_the_approval(
    stub: Stubber, sagemaker: Any
) -> None:
    stub.add_client_error(
        **already("create_context", f"Context {CONTEXT_NAME}"), expected_params=CREATE_CONTEXT
    )
    stub.add_response(
        "describe_context",
        {"ContextName": CONTEXT_NAME, "ContextArn": CONTEXT},
        {"ContextName": CONTEXT_NAME},
    )
    stub.add_response(
        "list_artifacts",
        {"ArtifactSummaries": [{"ArtifactArn": MODEL}]},
        {"SourceUri": MODEL_URI, "ArtifactType": "Model"},
    )
    _, params = association(CONTEXT, MODEL, "Produced")
    stub.add_client_error(**already("add_association", "Association"), expected_params=params)
    stub.add_client_error(**already("create_action", f"Action {ACTION_NAME}"), expected_params=CREATE_ACTION)
    stub.add_response(
        "update_action",
        {"ActionArn": ACTION},
        {"ActionName": ACTION_NAME, "Status": "Completed", "Properties": PROPERTIES},
    )
    _, params = association(MODEL, ACTION, "AssociatedWith")
    stub.add_client_error(**already("add_association", "Association"), expected_params=params)

    tracking = register(make_pack(inputs=False, metrics=False), SageMakerLineageTracking(sagemaker)).tracking

    assert tracking.status == "recorded"
    assert tracking.entities == {
        "context:training-run": CONTEXT,
        "artifact:model": MODEL,
        "action:approval": ACTION,
    }


def test_an_artifact_created_meanwhile_is_found_again(stub: Stubber, sagemaker: Any) -> None:
    stub.add_response("create_context", {"ContextArn": CONTEXT}, CREATE_CONTEXT)
    listing = {"SourceUri": MODEL_URI, "ArtifactType": "Model"}
    stub.add_response("list_artifacts", {"ArtifactSummaries": []}, listing)
    stub.add_client_error(**already("create_artifact", "Artifact"))
    stub.add_response("list_artifacts", {"ArtifactSummaries": [{"ArtifactArn": MODEL}]}, listing)
    stub.add_response("add_association", *association(CONTEXT, MODEL, "Produced"))
    stub.add_response("create_action", {"ActionArn": ACTION}, CREATE_ACTION)
    stub.add_response("add_association", *association(MODEL, ACTION, "AssociatedWith"))

    tracking = register(make_pack(inputs=False, metrics=False), SageMakerLineageTracking(sagemaker)).tracking

    assert tracking.status == "recorded" and tracking.entities["artifact:model"] == MODEL


@pytest.mark.parametrize(
    ("code", "status", "message", "expected"),
    [
        # "does not exist" is no duplicate: the old substring test ("exist") took it for one.
        ("ValidationException", 400, f"Context {CONTEXT_NAME} does not exist.", "failed"),
        ("ValidationException", 400, "1 validation error detected: Value at 'contextType'", "failed"),
        ("AccessDeniedException", 400, "User: arn:aws:iam::1:user/x is not authorized", "failed"),
        ("ResourceLimitExceeded", 400, "The account-level service limit for contexts is 1", "failed"),
        ("UnknownOperationException", 400, "", NOT_AVAILABLE),
        ("404", 404, "Not Found", "failed"),  # not SageMaker's answer for an unknown operation
    ],
)
def test_each_refusal_is_reported_for_what_it_is(
    stub: Stubber, sagemaker: Any, code: str, status: int, message: str, expected: str
) -> None:
    stub.add_client_error(
        "create_context",
        service_error_code=code,
        service_message=message,
        http_status_code=status,
        expected_params=CREATE_CONTEXT,
    )

    tracking = register(make_pack(), SageMakerLineageTracking(sagemaker)).tracking

    assert tracking.status == expected
    assert tracking.reason == f"CreateContext: {code} (HTTP {status}): {message}"
    assert tracking.entities == {}


def test_a_failure_midway_keeps_what_was_registered(stub: Stubber, sagemaker: Any) -> None:
    stub.add_response("create_context", {"ContextArn": CONTEXT}, CREATE_CONTEXT)
    stub.add_response(
        "list_artifacts",
        {"ArtifactSummaries": [{"ArtifactArn": MODEL}]},
        {"SourceUri": MODEL_URI, "ArtifactType": "Model"},
    )
    stub.add_client_error(
        "add_association",
        service_error_code="ResourceNotFound",
        service_message=f"Artifact {MODEL} does not exist",
        http_status_code=400,
        expected_params=association(CONTEXT, MODEL, "Produced")[1],
    )

    tracking = register(make_pack(), SageMakerLineageTracking(sagemaker)).tracking

    assert tracking.status == "failed"
    assert tracking.reason.startswith("AddAssociation: ResourceNotFound (HTTP 400): Artifact")
    assert tracking.entities == {"context:training-run": CONTEXT, "artifact:model": MODEL}


def test_a_pack_without_an_execution_is_skipped(sagemaker: Any) -> None:
    tracking = register(make_pack(execution=False), SageMakerLineageTracking(sagemaker)).tracking
    assert tracking.status == "skipped" and "no execution" in tracking.reason


# --- on the wire: botocore's standard retries see these answers ---


def test_a_throttle_is_retried_and_the_registration_completes(
    sagemaker: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    delays = no_backoff(monkeypatch)
    wire = Wire(sagemaker)
    wire.add_error("CreateContext", "ThrottlingException", "Rate exceeded", 400)
    wire.add_response("CreateContext", {"ContextArn": CONTEXT})
    wire.add_response("ListArtifacts", {"ArtifactSummaries": [{"ArtifactArn": MODEL}]})
    wire.add_response("AddAssociation", {"SourceArn": CONTEXT, "DestinationArn": MODEL})
    wire.add_error("CreateAction", "ThrottlingException", "Rate exceeded", 400)
    wire.add_error("CreateAction", "ThrottlingException", "Rate exceeded", 400)
    wire.add_response("CreateAction", {"ActionArn": ACTION})
    wire.add_response("AddAssociation", {"SourceArn": MODEL, "DestinationArn": ACTION})

    tracking = register(make_pack(inputs=False, metrics=False), SageMakerLineageTracking(sagemaker)).tracking

    wire.assert_no_pending_answers()
    assert tracking.status == "recorded" and tracking.entities["action:approval"] == ACTION
    assert len(delays) == 3  # one backoff per retried throttle


@pytest.mark.parametrize(("code", "status"), [("InternalFailure", 500), ("ServiceUnavailable", 503)])
def test_a_server_error_is_retried_then_reported_as_a_failure_not_as_unavailable(
    sagemaker: Any, monkeypatch: pytest.MonkeyPatch, code: str, status: int
) -> None:
    no_backoff(monkeypatch)
    wire = Wire(sagemaker)
    attempts = RETRIES.retries["total_max_attempts"]
    for _ in range(attempts):
        wire.add_error("CreateContext", code, "We encountered an internal error. Please try again.", status)

    tracking = register(make_pack(), SageMakerLineageTracking(sagemaker)).tracking

    wire.assert_no_pending_answers()
    assert wire.calls == ["CreateContext"] * attempts
    assert tracking.status == "failed"
    assert (
        tracking.reason
        == f"CreateContext: {code} (HTTP {status}): We encountered an internal error. Please try again."
    )
