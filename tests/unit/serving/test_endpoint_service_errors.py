"""UpdateEndpoint and DescribeEndpoint as the deployer calls them (moto implements no UpdateEndpoint):
botocore's Stubber answers to the service model; `Wire` answers where botocore's retries must see errors."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from botocore.awsrequest import AWSResponse
from botocore.exceptions import ClientError
from botocore.stub import Stubber

from keel.naming import endpoint_name
from keel.serving.deploy import DeploymentError
from keel.serving.endpoint_service import EndpointState, SageMakerEndpointService
from keel.serving.requests import deployment_config
from keel.serving.runtime import RETRIES, build_deployer, deployer_settings
from keel.serving.settings import ServingSettings
from tests.unit.lineage.wire import Wire, no_backoff
from tests.unit.monitoring.world import World
from tests.unit.serving.test_deploy_flow import KEY, approval

NAME = "keel-dev-endpoint"
ARN = f"arn:aws:sagemaker:us-east-1:123456789012:endpoint/{NAME}"
OLD, NEW = "keel-dev-v1-20261101T100000", "keel-dev-v2-20261102T100000"
ALARMS = ("keel-dev-endpoint-5xx", "keel-dev-endpoint-latency")
GUARDRAILS = deployment_config(ServingSettings(), ALARMS)
UPDATE = {"EndpointName": NAME, "EndpointConfigName": NEW, "DeploymentConfig": GUARDRAILS}
NOW = datetime(2026, 11, 2, 10, 0, tzinfo=UTC)


def endpoint(status: str, config: str, *, pending: str | None = None) -> dict[str, Any]:
    """A DescribeEndpoint response."""
    answer: dict[str, Any] = {
        "EndpointName": NAME,
        "EndpointArn": ARN,
        "EndpointConfigName": config,
        "ProductionVariants": [{"VariantName": "live", "CurrentInstanceCount": 2}],
        "EndpointStatus": status,
        "CreationTime": NOW,
        "LastModifiedTime": NOW,
    }
    if pending:
        answer["PendingDeploymentSummary"] = {"EndpointConfigName": pending, "StartTime": NOW}
    return answer


@pytest.fixture
def sagemaker() -> Any:
    return boto3.client("sagemaker", region_name="us-east-1", config=RETRIES)


@pytest.fixture
def stub(sagemaker: Any) -> Iterator[Stubber]:
    with Stubber(sagemaker) as stubber:
        yield stubber
        stubber.assert_no_pending_responses()


def service(sagemaker: Any) -> SageMakerEndpointService:
    return SageMakerEndpointService(sagemaker, autoscaling=None)


def refusal(message: str) -> dict[str, Any]:
    return {
        "method": "update_endpoint",
        "service_error_code": "ValidationException",
        "service_message": message,
        "http_status_code": 400,
        "expected_params": UPDATE,
    }


def test_the_guarded_update_is_a_request_sagemaker_accepts(stub: Stubber, sagemaker: Any) -> None:
    stub.add_response(
        "update_endpoint", {"EndpointArn": ARN}, UPDATE
    )  # DeploymentConfig checked by the model
    service(sagemaker).update_endpoint(NAME, NEW, GUARDRAILS)


def test_an_update_sagemaker_refuses_is_raised(stub: Stubber, sagemaker: Any) -> None:
    stub.add_client_error(**refusal("The variant name(s) [blue] is/are not present in the endpoint config."))
    stub.add_response("describe_endpoint", endpoint("InService", OLD), {"EndpointName": NAME})
    with pytest.raises(ClientError, match="variant name"):
        service(sagemaker).update_endpoint(NAME, NEW, GUARDRAILS)


def test_a_repeat_refused_because_the_first_attempt_took_effect_is_no_error(
    stub: Stubber, sagemaker: Any
) -> None:
    stub.add_client_error(**refusal(f'Cannot update in-progress endpoint "{ARN}".'))
    stub.add_response("describe_endpoint", endpoint("Updating", OLD, pending=NEW), {"EndpointName": NAME})
    service(sagemaker).update_endpoint(NAME, NEW, GUARDRAILS)


def test_a_denied_update_fails_closed_with_its_reason(stub: Stubber, sagemaker: Any) -> None:
    stub.add_client_error(
        "update_endpoint",
        service_error_code="AccessDeniedException",
        service_message="not authorized to perform: sagemaker:UpdateEndpoint",
        http_status_code=400,
        expected_params=UPDATE,
    )
    with pytest.raises(ClientError, match="AccessDeniedException"):
        service(sagemaker).update_endpoint(NAME, NEW, GUARDRAILS)


def test_describe_endpoint_reads_the_state_and_tells_absent_from_denied(
    stub: Stubber, sagemaker: Any
) -> None:
    stub.add_response("describe_endpoint", endpoint("Updating", OLD, pending=NEW), {"EndpointName": NAME})
    stub.add_response(
        "describe_endpoint_config",
        {
            "EndpointConfigName": OLD,
            "EndpointConfigArn": f"{ARN}-config",
            "ProductionVariants": [{"VariantName": "live", "ModelName": OLD, "InstanceType": "ml.m5.large"}],
            "CreationTime": NOW,
        },
        {"EndpointConfigName": OLD},
    )
    stub.add_client_error(
        "describe_endpoint",
        service_error_code="ValidationException",
        service_message=f'Could not find endpoint "{ARN}".',
        http_status_code=400,
    )
    stub.add_client_error(
        "describe_endpoint",
        service_error_code="AccessDeniedException",
        service_message="not authorized to perform: sagemaker:DescribeEndpoint",
        http_status_code=400,
    )
    endpoints = service(sagemaker)
    assert endpoints.describe_endpoint(NAME) == EndpointState(
        name=NAME, status="Updating", config_name=OLD, instance_type="ml.m5.large", instance_count=2
    )
    assert endpoints.describe_endpoint(NAME) is None
    with pytest.raises(ClientError, match="AccessDeniedException"):  # never taken for "no endpoint"
        endpoints.describe_endpoint(NAME)


def test_a_throttled_update_is_retried(sagemaker: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    delays = no_backoff(monkeypatch)
    wire = Wire(sagemaker)
    wire.add_error("UpdateEndpoint", "ThrottlingException", "Rate exceeded", 400)
    wire.add_response("UpdateEndpoint", {"EndpointArn": ARN})
    service(sagemaker).update_endpoint(NAME, NEW, GUARDRAILS)
    wire.assert_no_pending_answers()
    assert wire.calls == ["UpdateEndpoint", "UpdateEndpoint"] and len(delays) == 1


def test_a_denied_update_stops_the_deployment_with_the_reason_and_records_nothing(world: World) -> None:
    """The deployer on moto with the real endpoint service; UpdateEndpoint answers AccessDenied."""
    world.create_alarms()
    deployer = build_deployer(
        deployer_settings(world.config, kms_key_arn=KEY),
        sagemaker=world.sagemaker,
        s3=world.s3,
        cloudwatch=world.cloudwatch,
        autoscaling=world.autoscaling,
    )
    name = endpoint_name(world.config)
    v1, v2 = world.register_version("exec-1"), world.register_version("exec-2")
    assert deployer.handle(approval(world, v1))["status"] == "started"
    settled = deployer.handle(
        {"detail-type": "SageMaker Endpoint State Change", "detail": {"EndpointName": name}}
    )
    assert settled["status"] == "succeeded"

    def denied(**_: Any) -> tuple[Any, dict[str, Any]]:
        message = "User: arn:aws:sts::1:assumed-role/d is not authorized to perform: sagemaker:UpdateEndpoint"
        error = {"Code": "AccessDeniedException", "Message": message}
        return AWSResponse("https://sagemaker", 400, {}, None), {"Error": error, "ResponseMetadata": {}}

    world.sagemaker.meta.events.register("before-call.sagemaker.UpdateEndpoint", denied)
    with pytest.raises(DeploymentError) as raised:
        deployer.handle(approval(world, v2))
    assert str(raised.value).startswith(
        f"UpdateEndpoint of {name} with version 2 failed: AccessDeniedException: User: arn:aws:sts::1:"
    )
    assert deployer.store.pending(name) is None
    reports = world.s3.list_objects_v2(Bucket=world.reports, Prefix="lineage/deployments/2/")
    assert reports.get("KeyCount") == 0
