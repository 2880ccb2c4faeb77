"""The lineage pack: JSON (stable schema) and HTML of one model version, tracking, reverse lookup."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from moto import mock_aws

from keel.gate.decide import gate_model_package
from keel.lineage.html import render_html
from keel.lineage.pack import (
    LineagePack,
    PackSources,
    SageMakerEndpointDeployments,
    build_pack,
    pack_schema,
)
from keel.lineage.reverse import models_trained_on
from keel.lineage.tracking import SageMakerLineageTracking, SkipTracking, entity_name, register
from tests.unit.gate.world import World, keel_config

SCHEMA_FILE = Path(__file__).resolve().parents[3] / "keel" / "lineage" / "pack.schema.json"


@pytest.fixture
def world() -> Any:
    with mock_aws():
        yield World(keel_config("local"))


def sources(world: World) -> PackSources:
    return PackSources(
        world.settings, world.sagemaker, world.s3, SageMakerEndpointDeployments(world.sagemaker)
    )


def deploy(world: World, arn: str) -> None:
    world.sagemaker.create_model(
        ModelName="keel-local-model-v1",
        PrimaryContainer={"ModelPackageName": arn},
        ExecutionRoleArn="arn:aws:iam::123456789012:role/keel-local-serving",
    )
    world.sagemaker.create_endpoint_config(
        EndpointConfigName="keel-local-endpoint-v1",
        ProductionVariants=[
            {
                "VariantName": "AllTraffic",
                "ModelName": "keel-local-model-v1",
                "InitialInstanceCount": 1,
                "InstanceType": "ml.m5.large",
            }
        ],
    )
    world.sagemaker.create_endpoint(
        EndpointName="keel-local-endpoint", EndpointConfigName="keel-local-endpoint-v1"
    )


def test_the_pack_assembles_one_model_versions_lineage(world: World) -> None:
    run = world.train(accuracy=0.66)
    gate_model_package(world.deps(), run.model_package_arn)
    deploy(world, run.model_package_arn)
    pack = build_pack(sources(world), "1")
    assert (
        pack.model_package.arn == run.model_package_arn and pack.model_package.approval_status == "Approved"
    )
    assert pack.trigger and pack.trigger.reason == "test run"
    [item] = pack.inputs
    assert (item.uri, item.version_id, item.version_exists, item.quarantined) == (
        run.input_uri,
        run.input_version,
        True,
        False,
    )
    assert pack.contract and pack.contract.version == "1.0.0"
    assert pack.validation and pack.validation.success is True
    assert pack.execution and pack.execution.id == run.execution_id
    assert pack.execution.parameters["InputObjectVersion"] == run.input_version
    assert pack.code and pack.code.git_commit and pack.code.image_digest == "sha256:" + "ab" * 32
    assert pack.metrics and pack.metrics.accuracy == 0.66
    assert pack.drift and pack.drift.dataset_drift is False
    [decision] = pack.gate_decisions
    assert decision.decision.value == "Approved" and decision.seal_valid and len(decision.policies) == 9
    assert pack.approval.via == "policy-gate"
    assert pack.approval.decided_by and pack.approval.decided_by.identity == "arn:aws:lambda:test:policy-gate"
    [deployment] = pack.deployments
    assert deployment.endpoint_name == "keel-local-endpoint" and deployment.variant_name == "AllTraffic"
    assert pack.warnings == []
    # The JSON is the schema's, and round-trips.
    assert LineagePack.model_validate_json(pack.to_json()) == pack


def test_the_pack_warns_instead_of_hiding_gaps(world: World) -> None:
    run = world.train()
    world.set_status_in_console(run.model_package_arn, "Approved")
    bucket, key = run.input_uri[5:].split("/", 1)
    world.s3.delete_object(Bucket=bucket, Key=key, VersionId=run.input_version)
    pack = build_pack(sources(world), run.model_package_arn)
    assert pack.approval.via == "outside-gate-unreviewed"
    assert "approved, but no gate evidence exists for the approval" in pack.warnings
    assert any("no longer exists" in w for w in pack.warnings)
    assert pack.inputs[0].version_exists is False


def test_the_html_page_is_self_contained_and_readable(world: World) -> None:
    run = world.train(accuracy=0.3)
    gate_model_package(world.deps(), run.model_package_arn)
    html = render_html(build_pack(sources(world), "1"))
    assert html.startswith("<!doctype html>") and "<script" not in html
    assert "src=" not in html and "href=" not in html and "@import" not in html
    for text in (
        "Model keel-local-models version 1",
        "Rejected",
        "metrics.accuracy-threshold",
        "accuracy 0.3000 &lt; min_accuracy 0.5",
        run.input_version,
        "Policy gate decisions",
    ):
        assert text in html


def test_the_json_schema_file_is_current() -> None:
    assert json.loads(SCHEMA_FILE.read_text()) == pack_schema(), (
        "regenerate: keel lineage --schema > keel/lineage/pack.schema.json (and update PACK_SCHEMA.md)"
    )


def test_tracking_on_an_emulator_without_the_apis_is_a_failure_that_says_so(world: World) -> None:
    run = world.train()
    pack = register(
        build_pack(sources(world), run.model_package_arn), SageMakerLineageTracking(world.sagemaker)
    )
    assert pack.tracking.status == "failed"
    assert "an AWS emulator, not AWS" in pack.tracking.reason and "create_context" in pack.tracking.reason
    assert register(pack, SkipTracking("--no-tracking")).tracking.status == "skipped"
    assert entity_name("keel", "local", "group_name", "v1", "approval") == "keel-local-group-name-v1-approval"


def test_reverse_lookup_finds_the_models_trained_on_an_object(world: World) -> None:
    shared = "landing/wine_quality/ingest_date=2026-11-01/wine.csv"
    first = world.train(input_key=shared)
    second = world.train(input_key=shared, data=b"fixed_acidity,quality\n1,2\n")
    world.train(input_key="landing/wine_quality/ingest_date=2026-11-02/other.csv")
    unregistered = world.train(input_key=shared, register=False)
    common = {"s3": world.s3, "sagemaker": world.sagemaker}
    lookup = models_trained_on(world.settings, dataset_uri=first.input_uri, **common)
    assert lookup.records_scanned == 4
    assert [u.model_package_arn for u in lookup.uses] == [
        first.model_package_arn,
        second.model_package_arn,
        None,
    ]
    assert lookup.uses[2].execution_id == unregistered.execution_id
    one_version = models_trained_on(
        world.settings, dataset_uri=first.input_uri, version_id=second.input_version, **common
    )
    assert [u.model_package_arn for u in one_version.uses] == [second.model_package_arn]
    prefix = models_trained_on(world.settings, dataset_uri=first.input_uri.rsplit("/", 2)[0] + "/", **common)
    assert len(prefix.as_dict()["model_versions"]) == 3


def test_the_deployers_history_of_the_version_is_in_the_pack(world: World) -> None:
    from keel.lineage.pack import DEPLOYMENT_RECORDS_PREFIX
    from keel.serving.names import DEPLOYMENTS_PREFIX, deployment_record_key
    from keel.serving.records import DeploymentRecord, ModelRef

    assert DEPLOYMENT_RECORDS_PREFIX == DEPLOYMENTS_PREFIX
    run = world.train()
    record = DeploymentRecord(
        event="deployment-succeeded",
        time="2026-11-01T11:00:00+00:00",
        environment="local",
        endpoint_name="keel-local-endpoint",
        deployment_id="d-1",
        new=ModelRef(package_arn=run.model_package_arn or "", version=1),
        previous=None,
        serving=ModelRef(package_arn=run.model_package_arn or "", version=1),
        strategy={"type": "create"},
        rollback_alarms=[],
        data_capture={},
        approval={},
    )
    world.s3.put_object(
        Bucket=world.settings.reports_bucket,
        Key=deployment_record_key(1, "20261101T110000Z"),
        Body=record.model_dump_json().encode(),
    )
    pack = build_pack(sources(world), "1")
    [event] = pack.deployment_history
    assert (event.event, event.role, event.serving_version) == ("deployment-succeeded", "new", 1)
    assert "Deployment history" in render_html(pack)


def test_a_pack_is_assembled_when_asked_so_a_later_deployment_shows(world: World) -> None:
    run = world.train()
    gate_model_package(world.deps(), run.model_package_arn)
    default_sources = PackSources(world.settings, world.sagemaker, world.s3)  # endpoints read by default
    before = build_pack(default_sources, "1")
    assert before.deployments == [] and before.warnings == []
    deploy(world, run.model_package_arn)
    [deployment] = build_pack(default_sources, "1").deployments or []
    assert (deployment.endpoint_name, deployment.source) == ("keel-local-endpoint", "sagemaker-endpoints")
    assert f"As of {before.generated_at}" in render_html(before)


def test_endpoints_that_cannot_be_read_are_unknown_not_none(world: World) -> None:
    import boto3
    from botocore.stub import Stubber

    world.train()
    denied = boto3.client("sagemaker", region_name="us-east-1")
    with Stubber(denied) as stub:
        stub.add_client_error(
            "list_endpoints",
            service_error_code="AccessDeniedException",
            service_message="not authorized to perform: sagemaker:ListEndpoints",
            http_status_code=400,
        )
        pack = build_pack(
            PackSources(world.settings, world.sagemaker, world.s3, SageMakerEndpointDeployments(denied)), "1"
        )
    assert pack.deployments is None
    assert any("endpoint deployments unknown" in w and "AccessDeniedException" in w for w in pack.warnings)
    html = render_html(pack)
    assert "Endpoint deployments unknown: the lookup failed" in html


def test_an_input_that_cannot_be_checked_is_not_reported_gone(world: World) -> None:
    from botocore.awsrequest import AWSResponse

    world.train()

    def forbidden(**_: Any) -> tuple[AWSResponse, dict[str, Any]]:
        response = AWSResponse("https://s3", 403, {}, None)
        return response, {"Error": {"Code": "403", "Message": "Forbidden"}, "ResponseMetadata": {}}

    world.s3.meta.events.register("before-call.s3.HeadObject", forbidden)
    pack = build_pack(sources(world), "1")
    assert pack.inputs[0].version_exists is None
    assert any("could not be checked" in w and "403" in w for w in pack.warnings)
    assert not any("no longer exists" in w for w in pack.warnings)


def test_a_version_that_does_not_exist_is_named(world: World) -> None:
    from keel.lineage.pack import ModelVersionNotFoundError

    world.train()
    with pytest.raises(ModelVersionNotFoundError, match="no model package version 7 in keel-local-models"):
        build_pack(sources(world), "7")
