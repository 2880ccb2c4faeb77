"""Alarm specs: names and families, thresholds from the environment config, the rollback set."""

from __future__ import annotations

import pytest

from keel.config import load_environment
from keel.feedback.names import feedback_accuracy_alarm_name, retrain_alarm_prefixes
from keel.monitoring.alarms import alarm_set
from keel.monitoring.names import Alarm, rollback_alarm_names, system_alarm_name
from keel.monitoring.settings import monitoring_settings
from keel.naming import AlarmKind, alarm_prefix


@pytest.mark.parametrize("env_name", ["local", "dev", "staging", "prod"])
def test_names_follow_keel_naming_and_only_drift_and_quality_alarms_can_retrain(env_name: str) -> None:
    config = load_environment(env_name)
    alarms = alarm_set(config, monitoring_settings(config))
    retraining = [
        n
        for n in [*alarms.all_names, alarms.model_health_name]
        if n.startswith(retrain_alarm_prefixes(config))
    ]
    assert retraining == [f"{config.prefix}-drift-dataset", feedback_accuracy_alarm_name(config)]
    for spec in alarms.metric:
        assert spec.name.startswith(alarm_prefix(config, spec.kind))
    assert alarms.accuracy.kind is AlarmKind.MODEL_QUALITY
    assert alarms.model_health_name == f"{config.prefix}-system-model-health"
    assert len(set(alarms.all_names)) == len(alarms.all_names)


def test_thresholds_come_from_the_environment_config() -> None:
    config = load_environment("prod")
    alarms = alarm_set(config, monitoring_settings(config))
    drift = alarms.by_name(f"{config.prefix}-drift-dataset")
    assert (drift.metric_name, drift.statistic, drift.comparison) == (
        "DriftedFeatureShare",
        "Maximum",
        "GreaterThanThreshold",
    )
    assert drift.threshold == config.thresholds.max_drifted_feature_share
    assert drift.dimensions == {"Environment": "prod"}
    assert alarms.accuracy.threshold == config.thresholds.min_accuracy == 0.55
    assert "0.2" in drift.description and "0.01" in drift.description


def test_rollback_alarms_watch_the_endpoint_variant() -> None:
    config = load_environment("dev")
    settings = monitoring_settings(config)
    alarms = alarm_set(config, settings)
    rollback = [a for a in alarms.metric if a.rollback]
    assert tuple(a.name for a in rollback) == rollback_alarm_names(config)
    assert {a.metric_name for a in rollback} == {"Invocation5XXErrors", "ModelLatency"}
    for alarm in rollback:
        assert alarm.dimensions == {"EndpointName": "keel-dev-endpoint", "VariantName": "live"}
        assert alarm.model_health and alarm.period == 60
    latency = alarms.by_name(system_alarm_name(config, Alarm.ENDPOINT_LATENCY))
    assert latency.threshold == settings.max_model_latency_ms * 1000 and latency.statistic == "p99"
    request = latency.put_metric_alarm_request(actions=["arn:topic"])
    assert request["ExtendedStatistic"] == "p99" and "Statistic" not in request
    assert request["AlarmActions"] == request["OKActions"] == ["arn:topic"]


def test_composite_children_are_model_health_alarms() -> None:
    config = load_environment("dev")
    alarms = alarm_set(config, monitoring_settings(config))
    assert set(alarms.model_health_children) == {
        "keel-dev-drift-dataset",
        "keel-dev-model-quality-feedback-accuracy",
        "keel-dev-system-endpoint-5xx",
        "keel-dev-system-endpoint-latency",
        "keel-dev-system-endpoint-invocations-anomaly",
    }


def test_total_evaluation_windows_are_within_cloudwatch_limits() -> None:
    config = load_environment("dev")
    for spec in alarm_set(config, monitoring_settings(config)).metric:
        limit = 86400 if spec.period < 3600 else 7 * 86400
        assert spec.period * spec.evaluation_periods <= limit, spec.name
        assert spec.datapoints_to_alarm <= spec.evaluation_periods
