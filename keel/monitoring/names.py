"""Keel's metrics (namespace `keel.naming.METRICS_NAMESPACE`) and the names of the monitoring alarms.

Every alarm name comes from `keel.naming.alarm_name` with its family: the performance trigger retrains on
state changes of DRIFT and MODEL_QUALITY alarms, so only the dataset-drift alarm and the feedback-accuracy
alarm carry those kinds; everything else (endpoint, pipeline, Lambda, data-quality, composite) is SYSTEM.
"""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING

from keel.feedback.names import FEEDBACK_ACCURACY_METRIC, feedback_accuracy_alarm_name
from keel.naming import AlarmKind, alarm_name

if TYPE_CHECKING:  # CDK-side config: annotations only, so no Lambda imports it
    from keel.config import EnvironmentConfig


class Metric(StrEnum):
    # Production drift (per feature: dimensions Environment + Feature).
    FEATURE_PSI = "FeaturePsi"
    FEATURE_KS_STATISTIC = "FeatureKsStatistic"
    FEATURE_KS_P_VALUE = "FeatureKsPValue"
    # Production drift (dataset level: dimension Environment).
    DRIFTED_FEATURE_SHARE = "DriftedFeatureShare"
    DRIFTED_FEATURES = "DriftedFeatures"
    DRIFT_CHECKS = "DriftChecks"
    CAPTURE_ROWS = "CaptureRows"
    CAPTURE_RECORDS_UNPARSEABLE = "CaptureRecordsUnparseable"
    # Training pipeline (dimension Environment; PipelineExecutions also by Status, Retrains also by Reason).
    VALIDATION_FAILURES = "ValidationFailures"
    QUARANTINED_ROWS = "QuarantinedRows"
    PIPELINE_EXECUTIONS = "PipelineExecutions"
    RETRAINS = "Retrains"
    # Published by the human feedback loop (keel.feedback): 1 = prediction confirmed, 0 = corrected.
    FEEDBACK_ACCURACY = FEEDBACK_ACCURACY_METRIC


ENVIRONMENT = "Environment"
FEATURE = "Feature"
STATUS = "Status"
REASON = "Reason"


class Alarm(StrEnum):
    """Alarm name suffixes (after `<prefix>-<kind>-`)."""

    DRIFT_DATASET = "dataset"
    DRIFT_CHECK_STALE = "drift-check-stale"
    CAPTURE_UNPARSEABLE = "capture-unparseable"
    DATA_VALIDATION = "data-validation"
    PIPELINE_FAILED = "pipeline-failed"
    RETRAIN_LOOP = "retrain-loop"
    ENDPOINT_5XX = "endpoint-5xx"
    ENDPOINT_LATENCY = "endpoint-latency"
    ENDPOINT_INVOCATIONS = "endpoint-invocations-anomaly"
    MODEL_HEALTH = "model-health"


def drift_alarm_name(config: EnvironmentConfig) -> str:
    """The one drift alarm: the dataset-level verdict (drifted feature share above the config's limit)."""
    return alarm_name(config, AlarmKind.DRIFT, Alarm.DRIFT_DATASET)


def accuracy_alarm_name(config: EnvironmentConfig) -> str:
    return feedback_accuracy_alarm_name(config)


def system_alarm_name(config: EnvironmentConfig, alarm: Alarm) -> str:
    return alarm_name(config, AlarmKind.SYSTEM, alarm.value)


def rollback_alarm_names(config: EnvironmentConfig) -> tuple[str, ...]:
    """Alarms that stop a blue/green deployment and return traffic to the old fleet (SageMaker watches them
    during every traffic step and the final bake)."""
    return (
        system_alarm_name(config, Alarm.ENDPOINT_5XX),
        system_alarm_name(config, Alarm.ENDPOINT_LATENCY),
    )


def function_alarm_name(config: EnvironmentConfig, function_name: str, what: str) -> str:
    """`<prefix>-system-<function>-<what>` for a Keel Lambda (`function_name` without the prefix)."""
    return alarm_name(config, AlarmKind.SYSTEM, f"{function_name}-{what}")
