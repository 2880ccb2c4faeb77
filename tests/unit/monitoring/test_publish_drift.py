"""The production drift publisher in-process against moto: reports in S3, metrics in CloudWatch, the drift
alarm evaluated where CloudWatch would evaluate it (moto does not), unparseable captures quarantined."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from keel.local.clock import evaluate_alarm
from keel.monitoring.names import Alarm, drift_alarm_name, system_alarm_name
from keel.monitoring.publish import publish_drift
from keel.naming import QUARANTINE_PREFIX
from keel.serving.names import endpoint_capture_uri
from tests.unit.monitoring.world import World, features, wine


def metric_values(world: World, name: str, **dimensions: str) -> list[float]:
    now = datetime.now(UTC)
    points = world.cloudwatch.get_metric_statistics(
        Namespace="Keel",
        MetricName=name,
        Dimensions=[{"Name": "Environment", "Value": world.config.name}]
        + [{"Name": k, "Value": v} for k, v in dimensions.items()],
        StartTime=now - timedelta(hours=1),
        EndTime=now + timedelta(minutes=1),
        Period=3600,
        Statistics=["Maximum"],
    )["Datapoints"]
    return [p["Maximum"] for p in points]


def publish(world: World, baseline: str) -> object:
    return publish_drift(
        s3=world.s3,
        cloudwatch=world.cloudwatch,
        config=world.config,
        capture_uri=endpoint_capture_uri(world.config),
        baseline_uri=baseline,
    )


def test_red_wine_batch_against_white_wine_baseline_puts_drift_metrics_and_trips_the_drift_alarm(
    world: World,
) -> None:
    names = world.create_alarms()
    drift_alarm = drift_alarm_name(world.config)
    assert drift_alarm in names and world.alarm_state(drift_alarm) == "OK"  # moto's initial state
    baseline = world.upload_baseline("exec-white", wine("white"))
    world.write_capture(wine("red").head(500)[features(world.contract)].itertuples(index=False))

    publication = publish(world, baseline)

    assert publication.summary.rows == 500 and publication.summary.dataset_drift is True
    assert publication.report is not None
    share = publication.report.drifted_share
    assert share > world.config.thresholds.max_drifted_feature_share
    # The metrics CloudWatch received: the verdict and every drift feature's PSI and KS.
    assert metric_values(world, "DriftedFeatureShare") == [share]
    assert metric_values(world, "DriftChecks") == [1.0]
    assert metric_values(world, "CaptureRows") == [500.0]
    assert metric_values(world, "CaptureRecordsUnparseable") == [0.0]
    by_feature = {f.name: f for f in publication.report.features}
    for feature in world.contract.drift_features:
        assert metric_values(world, "FeaturePsi", Feature=feature) == [by_feature[feature].psi]
        assert metric_values(world, "FeatureKsPValue", Feature=feature) == [by_feature[feature].ks_p_value]
        assert len(metric_values(world, "FeatureKsStatistic", Feature=feature)) == 1
    # moto never evaluates alarms: evaluate where CloudWatch would, from the alarm's own definition.
    assert evaluate_alarm(world.cloudwatch, drift_alarm) == "ALARM"
    assert world.alarm_state(drift_alarm) == "ALARM"
    # Reports next to each other under monitoring/drift/<endpoint>/<run>/.
    bucket, prefix = publication.report_uri.removeprefix("s3://").split("/", 1)
    keys = {
        o["Key"].removeprefix(prefix)
        for o in world.s3.list_objects_v2(Bucket=bucket, Prefix=prefix)["Contents"]
    }
    assert keys == {"drift_report.json", "drift_report.html", "capture_summary.json"}
    assert publication.quarantine_uris == []


def test_white_wine_traffic_keeps_the_drift_alarm_ok(world: World) -> None:
    world.create_alarms()
    shuffled = wine("white").sample(frac=1.0, random_state=3)
    baseline = world.upload_baseline("exec-white", shuffled.iloc[:3000])
    world.write_capture(shuffled.iloc[3000:3800][features(world.contract)].itertuples(index=False))
    publication = publish(world, baseline)
    assert publication.summary.dataset_drift is False
    assert evaluate_alarm(world.cloudwatch, drift_alarm_name(world.config)) == "OK"


def test_unparseable_captures_are_counted_quarantined_and_alarmed(world: World) -> None:
    world.create_alarms()
    baseline = world.upload_baseline("exec-white", wine("white"))
    rows = wine("white").head(200)[features(world.contract)].itertuples(index=False)
    world.write_capture(rows, extra=["{broken", json.dumps({"captureData": {}})])
    publication = publish(world, baseline)
    assert publication.summary.unparseable_records == 2
    assert publication.summary.rejection_reasons == {"not-json": 1, "not-a-capture-record": 1}
    assert metric_values(world, "CaptureRecordsUnparseable") == [2.0]
    (note_uri,) = publication.quarantine_uris
    bucket, key = note_uri.removeprefix("s3://").split("/", 1)
    assert key.startswith(f"{QUARANTINE_PREFIX}data-capture/")
    notes = [
        json.loads(line) for line in world.s3.get_object(Bucket=bucket, Key=key)["Body"].read().splitlines()
    ]
    assert [(n["line"], n["category"]) for n in notes] == [(201, "not-json"), (202, "not-a-capture-record")]
    assert all(n["reason"] and n["source"].endswith(".jsonl") for n in notes)
    assert (
        evaluate_alarm(world.cloudwatch, system_alarm_name(world.config, Alarm.CAPTURE_UNPARSEABLE))
        == "ALARM"
    )


def test_no_traffic_is_a_check_without_a_verdict(world: World) -> None:
    baseline = world.upload_baseline("exec-white", wine("white"))
    publication = publish(world, baseline)
    assert publication.summary.rows == 0 and publication.report is None
    assert {d["MetricName"] for d in publication.metrics} == {
        "DriftChecks",
        "CaptureRows",
        "CaptureRecordsUnparseable",
    }
    assert metric_values(world, "DriftedFeatureShare") == []
