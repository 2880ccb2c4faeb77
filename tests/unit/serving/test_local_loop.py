"""The loop the local end-to-end scenario runs in-process against moto: an approved model is deployed, its
traffic is captured, the production drift check compares it with that model's training baseline, and the
drift alarm — which the performance trigger retrains on — goes to ALARM."""

from __future__ import annotations

from keel.local.clock import evaluate_alarm
from keel.monitoring.names import drift_alarm_name
from keel.monitoring.publish import publish_drift
from keel.scenario.serving import approval_event, local_serving, served_version
from keel.scenario.simulated_endpoints import FAILING, HEALTHY
from keel.serving.names import endpoint_capture_uri
from tests.unit.monitoring.world import World, features, wine


def test_deploy_capture_drift_alarm(world: World) -> None:
    world.create_alarms()
    serving = local_serving(
        world.config,
        sagemaker=world.sagemaker,
        s3=world.s3,
        cloudwatch=world.cloudwatch,
        autoscaling=world.autoscaling,
        traffic=lambda package: FAILING if package and package.endswith("/2") else HEALTHY,
    )
    white = world.register_version("exec-white")
    world.upload_baseline("exec-white", wine("white"))
    started, settled = serving.handle(approval_event(world.sagemaker, white))
    assert (started["status"], settled["status"]) == ("started", "succeeded")
    failing = world.register_version("exec-broken")
    assert [r["status"] for r in serving.handle(approval_event(world.sagemaker, failing))] == [
        "started",
        "rolled-back",
    ]

    version = served_version(world.config, sagemaker=world.sagemaker)
    assert version is not None and version.package_arn == white  # the rollback kept version 1
    world.write_capture(wine("red").head(300)[features(world.contract)].itertuples(index=False))
    publication = publish_drift(
        s3=world.s3,
        cloudwatch=world.cloudwatch,
        config=world.config,
        capture_uri=endpoint_capture_uri(world.config),
        baseline_uri=version.baseline_uri(world.config),
    )
    assert publication.summary.dataset_drift is True
    assert evaluate_alarm(world.cloudwatch, drift_alarm_name(world.config)) == "ALARM"


def test_nothing_served_yet(world: World) -> None:
    assert served_version(world.config, sagemaker=world.sagemaker) is None
