"""Render Keel's alarm specs (`keel.monitoring.alarms`) as CloudWatch alarms, plus the composite model-health
alarm. The composite's children notify only through it (one alert per incident); every other alarm notifies
the alert topic itself, on ALARM and on OK."""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cloudwatch_actions
from aws_cdk import aws_sns as sns
from constructs import Construct

from keel.monitoring.alarms import AlarmSet, MetricAlarmSpec
from keel.monitoring.names import Metric
from keel.naming import METRICS_NAMESPACE
from stacks.compliance import acknowledge

_COMPARISON = {
    "GreaterThanThreshold": cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
    "GreaterThanOrEqualToThreshold": cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    "LessThanThreshold": cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
    "LessThanOrEqualToThreshold": cloudwatch.ComparisonOperator.LESS_THAN_OR_EQUAL_TO_THRESHOLD,
}
_MISSING = {
    "breaching": cloudwatch.TreatMissingData.BREACHING,
    "notBreaching": cloudwatch.TreatMissingData.NOT_BREACHING,
    "ignore": cloudwatch.TreatMissingData.IGNORE,
    "missing": cloudwatch.TreatMissingData.MISSING,
}


def spec_metric(spec: MetricAlarmSpec) -> cloudwatch.Metric:
    return cloudwatch.Metric(
        namespace=spec.namespace,
        metric_name=spec.metric_name,
        dimensions_map=dict(spec.dimensions),
        statistic=spec.statistic,
        period=Duration.seconds(spec.period),
    )


def _construct_id(name: str) -> str:
    return "".join(part.capitalize() for part in name.replace("_", "-").split("-"))


class KeelAlarms(Construct):
    def __init__(
        self, scope: Construct, construct_id: str, *, alarms: AlarmSet, alert_topic: sns.ITopic, prefix: str
    ) -> None:
        super().__init__(scope, construct_id)
        action = cloudwatch_actions.SnsAction(alert_topic)
        self.by_name: dict[str, cloudwatch.IAlarm] = {}
        for spec in alarms.metric:
            alarm = cloudwatch.Alarm(
                self,
                _construct_id(spec.name.removeprefix(f"{prefix}-")),
                alarm_name=spec.name,
                alarm_description=spec.description,
                metric=spec_metric(spec),
                threshold=spec.threshold,
                evaluation_periods=spec.evaluation_periods,
                datapoints_to_alarm=spec.datapoints_to_alarm,
                comparison_operator=_COMPARISON[spec.comparison],
                treat_missing_data=_MISSING[spec.treat_missing_data],
            )
            self._notify(alarm, action, child=spec.model_health)
            self.by_name[spec.name] = alarm

        accuracy_spec = alarms.accuracy
        period = Duration.seconds(accuracy_spec.period)

        def feedback(statistic: str) -> cloudwatch.Metric:
            return cloudwatch.Metric(
                namespace=METRICS_NAMESPACE,
                metric_name=Metric.FEEDBACK_ACCURACY,
                dimensions_map=dict(accuracy_spec.dimensions),
                statistic=statistic,
                period=period,
            )

        accuracy = cloudwatch.Alarm(
            self,
            "FeedbackAccuracy",
            alarm_name=accuracy_spec.name,
            alarm_description=accuracy_spec.description,
            metric=cloudwatch.MathExpression(
                expression=accuracy_spec.expression,
                using_metrics={"accuracy": feedback("Average"), "reviews": feedback("SampleCount")},
                period=period,
                label="Feedback accuracy (enough reviews)",
            ),
            threshold=accuracy_spec.threshold,
            evaluation_periods=1,
            comparison_operator=cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
            treat_missing_data=cloudwatch.TreatMissingData.IGNORE,
        )
        self._notify(accuracy, action, child=accuracy_spec.model_health)
        self.by_name[accuracy_spec.name] = accuracy

        anomaly_spec = alarms.anomaly
        anomaly = cloudwatch.AnomalyDetectionAlarm(
            self,
            "InvocationsAnomaly",
            alarm_name=anomaly_spec.name,
            alarm_description=anomaly_spec.description,
            metric=cloudwatch.Metric(
                namespace=anomaly_spec.namespace,
                metric_name=anomaly_spec.metric_name,
                dimensions_map=dict(anomaly_spec.dimensions),
                statistic=anomaly_spec.statistic,
                period=Duration.seconds(anomaly_spec.period),
            ),
            std_devs=anomaly_spec.std_devs,
            evaluation_periods=anomaly_spec.evaluation_periods,
            datapoints_to_alarm=anomaly_spec.datapoints_to_alarm,
            comparison_operator=cloudwatch.ComparisonOperator.LESS_THAN_LOWER_OR_GREATER_THAN_UPPER_THRESHOLD,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )
        self._notify(anomaly, action, child=anomaly_spec.model_health)
        self.by_name[anomaly_spec.name] = anomaly

        self.model_health = cloudwatch.CompositeAlarm(
            self,
            "ModelHealth",
            composite_alarm_name=alarms.model_health_name,
            alarm_description=(
                "Model health: production drift, accuracy from feedback, endpoint errors, latency or traffic "
                "anomaly. The child alarm in ALARM says which; drift and accuracy also start a retraining."
            ),
            alarm_rule=cloudwatch.AlarmRule.any_of(
                *[
                    cloudwatch.AlarmRule.from_alarm(self.by_name[name], cloudwatch.AlarmState.ALARM)
                    for name in alarms.model_health_children
                ]
            ),
        )
        self.model_health.add_alarm_action(action)
        self.model_health.add_ok_action(action)

    @staticmethod
    def _notify(alarm: cloudwatch.Alarm, action: cloudwatch_actions.SnsAction, *, child: bool) -> None:
        if not child:
            alarm.add_alarm_action(action)
            alarm.add_ok_action(action)
            return
        acknowledge(
            alarm,
            "A child of the composite model-health alarm, which notifies the alert topic (one alert per "
            "incident); EventBridge still sees its state changes (the performance trigger, rollbacks).",
            "HIPAA.Security-CloudWatchAlarmAction",
            "NIST.800.53.R5-CloudWatchAlarmAction",
        )
