"""One CloudWatch dashboard per environment: data, model and system health at a glance.

Top: every Keel alarm's state (the composite model-health alarm first). Then three rows — data (production
drift per feature against the config's thresholds, captured and unparseable records, validation failures),
model (accuracy from feedback, pipeline executions, retrains by reason) and system (endpoint traffic with its
anomaly band, errors, latency, Lambda errors and throttles, dead-letter queues).
"""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from constructs import Construct

from keel.config import EnvironmentConfig
from keel.contract import DatasetContract
from keel.monitoring.alarms import AlarmSet
from keel.monitoring.names import ENVIRONMENT, FEATURE, REASON, STATUS, Metric
from keel.monitoring.settings import MonitoringSettings
from keel.naming import METRICS_NAMESPACE, endpoint_name
from keel.serving.names import VARIANT_NAME

HOUR, DAY, MINUTE = Duration.hours(1), Duration.days(1), Duration.minutes(1)
WIDTH = 24


def retrain_search(environment: str) -> str:
    """Every Retrains-by-Reason series of the environment (reasons appear as triggers use them)."""
    schema = f"{{{METRICS_NAMESPACE},{ENVIRONMENT},{REASON}}}"
    query = f'{schema} MetricName="{Metric.RETRAINS.value}" {ENVIRONMENT}="{environment}"'
    return f"SEARCH('{query}', 'Sum', 86400)"


def dashboard_name(config: EnvironmentConfig) -> str:
    return f"{config.prefix}-health"


class HealthDashboard(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: EnvironmentConfig,
        contract: DatasetContract,
        settings: MonitoringSettings,
        alarm_set: AlarmSet,
        alarms: dict[str, cloudwatch.IAlarm],
        model_health: cloudwatch.IAlarm,
        function_names: Sequence[str],
        queues: Sequence[tuple[str, str]],
    ) -> None:
        """`function_names`: Keel's Lambda functions (physical names); `queues`: (label, queue name) of the
        dead-letter queues to show."""
        super().__init__(scope, construct_id)
        env = {ENVIRONMENT: config.name}
        thresholds = config.thresholds

        def keel(
            metric: Metric, statistic: str, period: Duration = HOUR, dims: dict[str, str] | None = None
        ) -> cloudwatch.Metric:
            return cloudwatch.Metric(
                namespace=METRICS_NAMESPACE,
                metric_name=metric.value,
                dimensions_map={**env, **(dims or {})},
                statistic=statistic,
                period=period,
                label=next(iter((dims or {}).values()), metric.value),
            )

        def line(value: float, label: str) -> cloudwatch.HorizontalAnnotation:
            return cloudwatch.HorizontalAnnotation(value=value, label=label, color=cloudwatch.Color.RED)

        def sagemaker(metric: str, statistic: str, label: str) -> cloudwatch.Metric:
            return cloudwatch.Metric(
                namespace="AWS/SageMaker",
                metric_name=metric,
                dimensions_map={"EndpointName": endpoint_name(config), "VariantName": VARIANT_NAME},
                statistic=statistic,
                period=MINUTE if metric != "Invocations" else Duration.minutes(5),
                label=label,
            )

        features = list(contract.drift_features)
        self.dashboard = cloudwatch.Dashboard(
            self,
            "Dashboard",
            dashboard_name=dashboard_name(config),
            default_interval=Duration.days(7),
        )
        add = self.dashboard.add_widgets
        add(
            cloudwatch.TextWidget(
                markdown=f"# Keel {config.name}: data, model and system health\n"
                f"Model health is the composite of drift, feedback accuracy and the endpoint alarms. Drift "
                f"and accuracy alarms start a retraining; endpoint 5xx and latency alarms roll a deployment "
                f"back. Drift reports: `s3://{config.prefix}-reports-…/monitoring/drift/`.",
                width=WIDTH,
                height=2,
            )
        )
        add(
            cloudwatch.AlarmStatusWidget(
                title="Alarms",
                alarms=[model_health, *[alarms[name] for name in alarm_set.all_names]],
                width=WIDTH,
                height=4,
            )
        )
        add(cloudwatch.TextWidget(markdown="## Data", width=WIDTH, height=1))
        add(
            cloudwatch.GraphWidget(
                title="Drifted feature share (production vs training baseline)",
                left=[keel(Metric.DRIFTED_FEATURE_SHARE, "Maximum")],
                left_annotations=[line(thresholds.max_drifted_feature_share, "dataset drift")],
                left_y_axis=cloudwatch.YAxisProps(min=0, max=1),
                width=8,
            ),
            cloudwatch.GraphWidget(
                title="PSI per feature",
                left=[keel(Metric.FEATURE_PSI, "Maximum", dims={FEATURE: f}) for f in features],
                left_annotations=[line(thresholds.max_feature_psi, "feature drift")],
                width=8,
            ),
            cloudwatch.GraphWidget(
                title="KS p-value per feature",
                left=[keel(Metric.FEATURE_KS_P_VALUE, "Minimum", dims={FEATURE: f}) for f in features],
                left_annotations=[line(thresholds.ks_p_value, "feature drift")],
                left_y_axis=cloudwatch.YAxisProps(min=0, max=1),
                width=8,
            ),
        )
        add(
            cloudwatch.GraphWidget(
                title="KS statistic per feature",
                left=[keel(Metric.FEATURE_KS_STATISTIC, "Maximum", dims={FEATURE: f}) for f in features],
                width=8,
            ),
            cloudwatch.GraphWidget(
                title="Captured rows and unparseable records (quarantined)",
                left=[keel(Metric.CAPTURE_ROWS, "Sum")],
                right=[keel(Metric.CAPTURE_RECORDS_UNPARSEABLE, "Sum")],
                width=8,
            ),
            cloudwatch.GraphWidget(
                title="Training data: validation failures and quarantined rows",
                left=[keel(Metric.VALIDATION_FAILURES, "Maximum")],
                right=[keel(Metric.QUARANTINED_ROWS, "Sum")],
                width=8,
            ),
        )
        add(cloudwatch.TextWidget(markdown="## Model", width=WIDTH, height=1))
        add(
            cloudwatch.GraphWidget(
                title="Accuracy of reviewed predictions (feedback)",
                left=[
                    keel(Metric.FEEDBACK_ACCURACY, "Average", Duration.hours(settings.feedback_window_hours))
                ],
                right=[
                    keel(
                        Metric.FEEDBACK_ACCURACY,
                        "SampleCount",
                        Duration.hours(settings.feedback_window_hours),
                    )
                ],
                left_annotations=[line(thresholds.min_accuracy, "minimum accuracy")],
                left_y_axis=cloudwatch.YAxisProps(min=0, max=1),
                width=8,
            ),
            cloudwatch.GraphWidget(
                title="Training pipeline executions",
                left=[
                    keel(Metric.PIPELINE_EXECUTIONS, "Sum", DAY, {STATUS: s})
                    for s in ("Succeeded", "Failed", "Stopped")
                ],
                stacked=True,
                width=8,
            ),
            cloudwatch.GraphWidget(
                title="Retrains by reason",
                left=[
                    cloudwatch.MathExpression(
                        expression=retrain_search(config.name),
                        using_metrics={},
                        label="",
                        period=DAY,
                    )
                ],
                stacked=True,
                width=8,
            ),
        )
        add(cloudwatch.TextWidget(markdown="## System", width=WIDTH, height=1))
        invocations = sagemaker("Invocations", "Sum", "invocations")
        add(
            cloudwatch.GraphWidget(
                title="Endpoint invocations and expected band",
                left=[
                    invocations,
                    cloudwatch.MathExpression(
                        expression=f"ANOMALY_DETECTION_BAND(invocations, {alarm_set.anomaly.std_devs:g})",
                        using_metrics={"invocations": invocations},
                        label="expected",
                        period=Duration.minutes(5),
                    ),
                ],
                width=8,
            ),
            cloudwatch.GraphWidget(
                title="Endpoint errors",
                left=[
                    sagemaker("Invocation5XXErrors", "Sum", "5xx"),
                    sagemaker("Invocation4XXErrors", "Sum", "4xx"),
                ],
                left_annotations=[line(settings.max_5xx_errors, "5xx alarm (rolls back)")],
                width=8,
            ),
            cloudwatch.GraphWidget(
                title="Model latency (µs)",
                left=[sagemaker("ModelLatency", "p50", "p50"), sagemaker("ModelLatency", "p99", "p99")],
                left_annotations=[line(settings.max_model_latency_ms * 1000, "p99 alarm (rolls back)")],
                width=8,
            ),
        )

        def lambda_metric(name: str, metric: str) -> cloudwatch.Metric:
            return cloudwatch.Metric(
                namespace="AWS/Lambda",
                metric_name=metric,
                dimensions_map={"FunctionName": name},
                statistic="Sum",
                period=Duration.minutes(5),
                label=name.removeprefix(f"{config.prefix}-"),
            )

        add(
            cloudwatch.GraphWidget(
                title="Lambda errors",
                left=[lambda_metric(name, "Errors") for name in function_names],
                width=8,
            ),
            cloudwatch.GraphWidget(
                title="Lambda throttles",
                left=[lambda_metric(name, "Throttles") for name in function_names],
                width=8,
            ),
            cloudwatch.GraphWidget(
                title="Dead-letter queues (messages waiting)",
                left=[
                    cloudwatch.Metric(
                        namespace="AWS/SQS",
                        metric_name="ApproximateNumberOfMessagesVisible",
                        dimensions_map={"QueueName": queue},
                        statistic="Maximum",
                        period=Duration.minutes(5),
                        label=label,
                    )
                    for label, queue in queues
                ],
                width=8,
            ),
        )
