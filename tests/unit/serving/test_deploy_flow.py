"""Deploy on approval, against moto, with SageMaker's guardrails replayed by the simulated endpoint service:
create, blue/green update, a failing new version rolled back automatically, and every step in the lineage of
both versions involved."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest

from keel.monitoring.names import Alarm, system_alarm_name
from keel.naming import endpoint_name, model_package_group_name
from keel.scenario.simulated_endpoints import FAILING, HEALTHY, CanaryTraffic, SimulatedEndpointService
from keel.serving.deploy import Deployer, DeploymentError
from keel.serving.runtime import build_deployer, deployer_settings
from keel.serving.settings import ServingSettings, serving_settings
from tests.unit.monitoring.world import World

KEY = "arn:aws:kms:us-east-1:123456789012:key/artifacts"


def approval(world: World, package_arn: str, status: str = "Approved") -> dict[str, Any]:
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "SageMaker Model Package State Change",
        "source": "aws.sagemaker",
        "time": datetime.now(UTC).isoformat(),
        "resources": [package_arn],
        "detail": {
            "ModelPackageGroupName": model_package_group_name(world.config),
            "ModelPackageVersion": int(package_arn.rsplit("/", 1)[-1]),
            "ModelPackageArn": package_arn,
            "ModelApprovalStatus": status,
        },
    }


class Serving:
    """The deployer wired to moto and the simulated service; `deliver()` plays EventBridge."""

    def __init__(self, world: World, *, settings: ServingSettings | None = None) -> None:
        self.world = world
        self.failing: set[str] = set()
        self.service = SimulatedEndpointService(
            world.sagemaker, world.autoscaling, cloudwatch=world.cloudwatch, traffic=self._traffic
        )
        self.deployer: Deployer = build_deployer(
            deployer_settings(world.config, settings or serving_settings(world.config), kms_key_arn=KEY),
            sagemaker=world.sagemaker,
            s3=world.s3,
            cloudwatch=world.cloudwatch,
            endpoints=self.service,
        )

    def _traffic(self, package: str | None) -> CanaryTraffic:
        return FAILING if package in self.failing else HEALTHY

    def approve(self, package_arn: str) -> dict[str, Any]:
        return self.deployer.handle(approval(self.world, package_arn))

    def deliver(self) -> list[dict[str, Any]]:
        results = []
        while self.service.events:
            results.append(self.deployer.handle(self.service.events.pop(0)))
        return results

    def serving(self) -> str | None:
        state = self.service.describe_endpoint(endpoint_name(self.world.config))
        return self.service.serving_package(state.config_name) if state else None

    def records(self, version: int) -> list[dict[str, Any]]:
        s3, bucket = self.world.s3, self.world.reports
        listed = s3.list_objects_v2(Bucket=bucket, Prefix=f"lineage/deployments/{version}/").get(
            "Contents", []
        )
        return [json.loads(s3.get_object(Bucket=bucket, Key=o["Key"])["Body"].read()) for o in listed]


@pytest.fixture
def serving(world: World) -> Serving:
    world.create_alarms()
    return Serving(world)


def test_first_approval_creates_the_endpoint_with_kms_and_data_capture(
    world: World, serving: Serving
) -> None:
    v1 = world.register_version("exec-1")
    started = serving.approve(v1)
    assert started["status"] == "started"
    (settled,) = serving.deliver()
    assert settled["status"] == "succeeded"
    assert serving.serving() == v1

    endpoint = world.sagemaker.describe_endpoint(EndpointName=endpoint_name(world.config))
    config = world.sagemaker.describe_endpoint_config(EndpointConfigName=endpoint["EndpointConfigName"])
    assert config["KmsKeyId"] == KEY
    capture = config["DataCaptureConfig"]
    assert capture["DestinationS3Uri"] == f"s3://{world.reports}/data-capture"
    assert capture["KmsKeyId"] == KEY and capture["EnableCapture"] is True
    assert [v["VariantName"] for v in config["ProductionVariants"]] == ["live"]
    model = world.sagemaker.describe_model(ModelName=config["ProductionVariants"][0]["ModelName"])
    assert model["PrimaryContainer"]["ModelPackageName"] == v1
    assert model["ExecutionRoleArn"].endswith(":role/keel-local-endpoint")
    # Autoscaling from the settings, registered once the endpoint is in service.
    (target,) = world.autoscaling.describe_scalable_targets(ServiceNamespace="sagemaker")["ScalableTargets"]
    assert target["ResourceId"] == "endpoint/keel-local-endpoint/variant/live"
    assert (target["MinCapacity"], target["MaxCapacity"]) == (1, 2)

    events = [r["event"] for r in sorted(serving.records(1), key=lambda r: r["time"])]
    assert events == ["deployment-started", "deployment-succeeded"]
    assert serving.records(1)[0]["strategy"] == {"Type": "CreateEndpoint"}
    assert serving.records(1)[0]["new"]["baseline_uri"].endswith(
        "/pipeline/keel-local-training/exec-1/baseline"
    )


def test_a_healthy_version_replaces_the_old_one_blue_green(world: World, serving: Serving) -> None:
    v1, v2 = world.register_version("exec-1"), world.register_version("exec-2")
    serving.approve(v1)
    serving.deliver()
    started = serving.approve(v2)
    assert started["status"] == "started"
    (settled,) = serving.deliver()
    assert settled["status"] == "succeeded" and serving.serving() == v2
    (simulated,) = serving.service.deployments
    assert (simulated.outcome, simulated.steps) == ("succeeded", [10, 100])  # canary, then all traffic
    record = next(r for r in serving.records(2) if r["event"] == "deployment-succeeded")
    guardrails = record["strategy"]
    assert guardrails["BlueGreenUpdatePolicy"]["TrafficRoutingConfiguration"]["Type"] == "CANARY"
    assert guardrails["AutoRollbackConfiguration"]["Alarms"] == [
        {"AlarmName": system_alarm_name(world.config, Alarm.ENDPOINT_5XX)},
        {"AlarmName": system_alarm_name(world.config, Alarm.ENDPOINT_LATENCY)},
    ]
    assert (record["new"]["version"], record["previous"]["version"], record["serving"]["version"]) == (
        2,
        1,
        2,
    )
    # The same record in the lineage of the version it replaced.
    assert any(r["deployment_id"] == record["deployment_id"] for r in serving.records(1))


def test_a_failing_version_is_rolled_back_and_both_lineages_say_so(world: World, serving: Serving) -> None:
    v1, v2 = world.register_version("exec-1"), world.register_version("exec-2")
    serving.approve(v1)
    serving.deliver()
    serving.failing.add(v2)

    assert serving.approve(v2)["status"] == "started"
    (settled,) = serving.deliver()

    assert settled["status"] == "rolled-back"
    assert serving.serving() == v1  # traffic returned to the old fleet
    five_xx = system_alarm_name(world.config, Alarm.ENDPOINT_5XX)
    (simulated,) = serving.service.deployments
    assert (simulated.outcome, simulated.tripped, simulated.steps) == ("rolled-back", [five_xx], [10, 100])
    assert world.alarm_state(five_xx) == "ALARM"
    for version in (2, 1):
        rolled_back = [r for r in serving.records(version) if r["event"] == "deployment-rolled-back"]
        assert len(rolled_back) == 1, version
        record = rolled_back[0]
        assert (record["new"]["version"], record["previous"]["version"], record["serving"]["version"]) == (
            2,
            1,
            1,
        )
        assert record["alarm_states"][five_xx] == "ALARM"
        assert f"rollback alarm(s) {five_xx} in ALARM" in record["detail"]
        assert "traffic returned to version 1" in record["detail"]


def test_redelivered_and_foreign_events_are_ignored(world: World, serving: Serving) -> None:
    v1 = world.register_version("exec-1")
    serving.approve(v1)
    serving.deliver()
    assert serving.approve(v1) == {"status": "ignored", "reason": "version 1 is already serving"}
    assert serving.deployer.handle(approval(world, v1, status="Rejected"))["status"] == "ignored"
    other = approval(world, v1)
    other["detail"]["ModelPackageGroupName"] = "someone-elses-models"
    assert "not Keel's" in serving.deployer.handle(other)["reason"]
    state_change = {
        "detail-type": "SageMaker Endpoint State Change",
        "detail": {"EndpointName": endpoint_name(world.config)},
    }
    assert serving.deployer.handle(state_change) == {
        "status": "ignored",
        "reason": "no deployment in progress",
    }
    state_change["detail"]["EndpointName"] = "other"
    assert serving.deployer.handle(state_change)["status"] == "ignored"
    assert serving.deployer.handle({"detail-type": "Scheduled Event"})["status"] == "ignored"


def test_an_approval_during_a_deployment_waits_and_is_deployed_next(world: World, serving: Serving) -> None:
    v1, v2 = world.register_version("exec-1"), world.register_version("exec-2")
    serving.approve(v1)  # the creation's state change is not delivered yet: a deployment is in progress
    queued = serving.approve(v2)
    assert queued["status"] == "queued"
    assert [r["event"] for r in serving.records(2)] == ["deployment-queued"]
    first, second = serving.deliver()
    assert first["status"] == "succeeded" and first["next"]["status"] == "started"
    assert second["status"] == "succeeded" and serving.serving() == v2


def test_no_guarded_update_without_the_rollback_alarms(world: World) -> None:
    serving = Serving(world)  # the monitoring stack's alarms were never created
    v1, v2 = world.register_version("exec-1"), world.register_version("exec-2")
    serving.approve(v1)
    serving.deliver()
    with pytest.raises(DeploymentError, match="do not exist: deploy the monitoring stack"):
        serving.approve(v2)
    assert serving.deployer.store.pending(endpoint_name(world.config)) is None
    assert serving.serving() == v1


def test_serverless_endpoints_record_that_they_cannot_capture(world: World) -> None:
    serving = Serving(world, settings=ServingSettings(endpoint_type="serverless"))
    v1 = world.register_version("exec-1")
    serving.approve(v1)
    serving.deliver()
    endpoint = world.sagemaker.describe_endpoint(EndpointName=endpoint_name(world.config))
    config = world.sagemaker.describe_endpoint_config(EndpointConfigName=endpoint["EndpointConfigName"])
    assert config["ProductionVariants"][0]["ServerlessConfig"]["MemorySizeInMB"] == 2048
    assert config["KmsKeyId"] == KEY
    assert serving.records(1)[0]["data_capture"]["enabled"] is False
    assert world.autoscaling.describe_scalable_targets(ServiceNamespace="sagemaker")["ScalableTargets"] == []
