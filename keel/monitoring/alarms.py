"""Keel's alarms as plain data: metric, statistic, period, threshold (from the environment config where the
config has it), what the alarm means, whether SageMaker rolls a deployment back on it, and whether it is part
of the composite "model health" alarm.

The monitoring stack renders these specs; tests create the same alarms in moto from them
(`put_metric_alarm_request`) and check that the synthesized template matches.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from keel.config import EnvironmentConfig
from keel.monitoring.names import (
    ENVIRONMENT,
    STATUS,
    Alarm,
    Metric,
    accuracy_alarm_name,
    drift_alarm_name,
    system_alarm_name,
)
from keel.monitoring.settings import MonitoringSettings
from keel.naming import METRICS_NAMESPACE, AlarmKind, endpoint_name
from keel.serving.names import VARIANT_NAME

SAGEMAKER_NAMESPACE = "AWS/SageMaker"


@dataclass(frozen=True)
class MetricAlarmSpec:
    name: str
    kind: AlarmKind
    description: str
    namespace: str
    metric_name: str
    dimensions: dict[str, str]
    statistic: str  # Sum | Average | Maximum | SampleCount | p99 ...
    period: int
    evaluation_periods: int
    datapoints_to_alarm: int
    threshold: float
    comparison: str
    treat_missing_data: str
    model_health: bool = False  # a child of the composite alarm (which alone notifies)
    rollback: bool = False  # SageMaker rolls a blue/green deployment back when it is in ALARM
    unit: str | None = None

    def put_metric_alarm_request(self, actions: list[str]) -> dict[str, Any]:
        request: dict[str, Any] = {
            "AlarmName": self.name,
            "AlarmDescription": self.description,
            "Namespace": self.namespace,
            "MetricName": self.metric_name,
            "Dimensions": [{"Name": k, "Value": v} for k, v in self.dimensions.items()],
            "Period": self.period,
            "EvaluationPeriods": self.evaluation_periods,
            "DatapointsToAlarm": self.datapoints_to_alarm,
            "Threshold": self.threshold,
            "ComparisonOperator": self.comparison,
            "TreatMissingData": self.treat_missing_data,
            "AlarmActions": actions,
            "OKActions": actions,
        }
        if self.statistic.startswith("p"):
            request["ExtendedStatistic"] = self.statistic
        else:
            request["Statistic"] = self.statistic
        return request


@dataclass(frozen=True)
class AccuracyAlarmSpec:
    """Model quality from human feedback: the mean of FeedbackAccuracy samples (1 confirmed, 0 corrected)
    over the window, judged only with at least `min_samples` reviewed predictions."""

    name: str
    kind: AlarmKind
    description: str
    period: int
    min_samples: int
    threshold: float
    model_health: bool = True
    dimensions: dict[str, str] = field(default_factory=dict)

    @property
    def expression(self) -> str:
        # Too few reviews is not evidence of a bad model: the expression reads 1 (healthy) then.
        return f"IF(reviews >= {self.min_samples}, accuracy, 1)"


@dataclass(frozen=True)
class AnomalyAlarmSpec:
    name: str
    kind: AlarmKind
    description: str
    namespace: str
    metric_name: str
    dimensions: dict[str, str]
    statistic: str
    period: int
    evaluation_periods: int
    datapoints_to_alarm: int
    std_devs: float
    model_health: bool = True


@dataclass(frozen=True)
class AlarmSet:
    metric: list[MetricAlarmSpec]
    accuracy: AccuracyAlarmSpec
    anomaly: AnomalyAlarmSpec
    model_health_name: str

    @property
    def all_names(self) -> list[str]:
        return [a.name for a in self.metric] + [self.accuracy.name, self.anomaly.name]

    @property
    def model_health_children(self) -> list[str]:
        return (
            [a.name for a in self.metric if a.model_health]
            + ([self.accuracy.name] if self.accuracy.model_health else [])
            + ([self.anomaly.name] if self.anomaly.model_health else [])
        )

    def by_name(self, name: str) -> MetricAlarmSpec:
        return next(a for a in self.metric if a.name == name)


def alarm_set(config: EnvironmentConfig, settings: MonitoringSettings) -> AlarmSet:
    env = {ENVIRONMENT: config.name}
    endpoint = {"EndpointName": endpoint_name(config), "VariantName": VARIANT_NAME}
    thresholds = config.thresholds

    def keel(alarm: Alarm, kind: AlarmKind = AlarmKind.SYSTEM) -> str:
        return drift_alarm_name(config) if kind is AlarmKind.DRIFT else system_alarm_name(config, alarm)

    metric = [
        MetricAlarmSpec(
            name=keel(Alarm.DRIFT_DATASET, AlarmKind.DRIFT),
            kind=AlarmKind.DRIFT,
            description=(
                "Production inputs drifted from the deployed model's training baseline: the share of drifted "
                f"features exceeds {thresholds.max_drifted_feature_share:g} (a feature drifts when PSI > "
                f"{thresholds.max_feature_psi:g} or KS p-value < {thresholds.ks_p_value:g}). Starts a "
                "retraining (performance trigger); the drift report names the features."
            ),
            namespace=METRICS_NAMESPACE,
            metric_name=Metric.DRIFTED_FEATURE_SHARE,
            dimensions=env,
            statistic="Maximum",
            period=3600,
            evaluation_periods=1,
            datapoints_to_alarm=1,
            threshold=thresholds.max_drifted_feature_share,
            comparison="GreaterThanThreshold",
            treat_missing_data="ignore",  # one check a day: the verdict stands until the next check
            model_health=True,
        ),
        MetricAlarmSpec(
            name=keel(Alarm.DRIFT_CHECK_STALE),
            kind=AlarmKind.SYSTEM,
            description=f"No production drift check ran for {settings.drift_check_stale_hours} hours.",
            namespace=METRICS_NAMESPACE,
            metric_name=Metric.DRIFT_CHECKS,
            dimensions=env,
            statistic="Sum",
            period=3600,
            evaluation_periods=settings.drift_check_stale_hours,
            datapoints_to_alarm=settings.drift_check_stale_hours,
            threshold=1,
            comparison="LessThanThreshold",
            treat_missing_data="breaching",
        ),
        MetricAlarmSpec(
            name=keel(Alarm.CAPTURE_UNPARSEABLE),
            kind=AlarmKind.SYSTEM,
            description="Captured inference records could not be parsed; they are counted and quarantined "
            "under quarantine/data-capture/ of the reports bucket with the reason.",
            namespace=METRICS_NAMESPACE,
            metric_name=Metric.CAPTURE_RECORDS_UNPARSEABLE,
            dimensions=env,
            statistic="Maximum",
            period=3600,
            evaluation_periods=1,
            datapoints_to_alarm=1,
            threshold=1,
            comparison="GreaterThanOrEqualToThreshold",
            treat_missing_data="notBreaching",
        ),
        MetricAlarmSpec(
            name=keel(Alarm.DATA_VALIDATION),
            kind=AlarmKind.SYSTEM,
            description="A training run's data failed validation against the dataset contract (the run "
            "stops at the quality gate; the validation summary lists the failures).",
            namespace=METRICS_NAMESPACE,
            metric_name=Metric.VALIDATION_FAILURES,
            dimensions=env,
            statistic="Maximum",
            period=3600,
            evaluation_periods=1,
            datapoints_to_alarm=1,
            threshold=1,
            comparison="GreaterThanOrEqualToThreshold",
            treat_missing_data="notBreaching",
        ),
        MetricAlarmSpec(
            name=keel(Alarm.PIPELINE_FAILED),
            kind=AlarmKind.SYSTEM,
            description="A training pipeline execution failed.",
            namespace=METRICS_NAMESPACE,
            metric_name=Metric.PIPELINE_EXECUTIONS,
            dimensions={**env, STATUS: "Failed"},
            statistic="Sum",
            period=3600,
            evaluation_periods=1,
            datapoints_to_alarm=1,
            threshold=1,
            comparison="GreaterThanOrEqualToThreshold",
            treat_missing_data="notBreaching",
        ),
        MetricAlarmSpec(
            name=keel(Alarm.RETRAIN_LOOP),
            kind=AlarmKind.SYSTEM,
            description=f"More than {settings.max_retrains_per_day} retrainings started in a day: a trigger "
            "is looping (see Retrains by Reason on the dashboard).",
            namespace=METRICS_NAMESPACE,
            metric_name=Metric.RETRAINS,
            dimensions=env,
            statistic="Sum",
            period=86400,
            evaluation_periods=1,
            datapoints_to_alarm=1,
            threshold=settings.max_retrains_per_day,
            comparison="GreaterThanThreshold",
            treat_missing_data="notBreaching",
        ),
        MetricAlarmSpec(
            name=keel(Alarm.ENDPOINT_5XX),
            kind=AlarmKind.SYSTEM,
            description=f"The endpoint returned at least {settings.max_5xx_errors} server errors a minute in "
            "2 of 3 minutes. Rolls a deployment back.",
            namespace=SAGEMAKER_NAMESPACE,
            metric_name="Invocation5XXErrors",
            dimensions=endpoint,
            statistic="Sum",
            period=60,
            evaluation_periods=3,
            datapoints_to_alarm=2,
            threshold=settings.max_5xx_errors,
            comparison="GreaterThanOrEqualToThreshold",
            treat_missing_data="notBreaching",
            model_health=True,
            rollback=True,
        ),
        MetricAlarmSpec(
            name=keel(Alarm.ENDPOINT_LATENCY),
            kind=AlarmKind.SYSTEM,
            description=f"p99 model latency above {settings.max_model_latency_ms} ms in 2 of 3 minutes. "
            "Rolls a deployment back.",
            namespace=SAGEMAKER_NAMESPACE,
            metric_name="ModelLatency",
            dimensions=endpoint,
            statistic="p99",
            period=60,
            evaluation_periods=3,
            datapoints_to_alarm=2,
            threshold=settings.max_model_latency_ms * 1000,  # ModelLatency is in microseconds
            comparison="GreaterThanThreshold",
            treat_missing_data="notBreaching",
            model_health=True,
            rollback=True,
            unit="Microseconds",
        ),
    ]
    accuracy = AccuracyAlarmSpec(
        name=accuracy_alarm_name(config),
        kind=AlarmKind.MODEL_QUALITY,
        description=(
            f"Accuracy of reviewed predictions below {thresholds.min_accuracy:g} over "
            f"{settings.feedback_window_hours} h (at least {settings.min_feedback_samples} reviews). "
            "Starts a retraining (performance trigger)."
        ),
        period=settings.feedback_window_hours * 3600,
        min_samples=settings.min_feedback_samples,
        threshold=thresholds.min_accuracy,
        dimensions=env,
    )
    anomaly = AnomalyAlarmSpec(
        name=keel(Alarm.ENDPOINT_INVOCATIONS),
        kind=AlarmKind.SYSTEM,
        description=f"Endpoint invocations outside their expected band ({settings.invocation_anomaly_band:g} "
        "standard deviations) for 15 minutes: a traffic drop or surge.",
        namespace=SAGEMAKER_NAMESPACE,
        metric_name="Invocations",
        dimensions=endpoint,
        statistic="Sum",
        period=300,
        evaluation_periods=3,
        datapoints_to_alarm=3,
        std_devs=settings.invocation_anomaly_band,
    )
    return AlarmSet(
        metric=metric,
        accuracy=accuracy,
        anomaly=anomaly,
        model_health_name=system_alarm_name(config, Alarm.MODEL_HEALTH),
    )
