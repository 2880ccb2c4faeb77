"""The monitoring stack: Keel's alarms (with the composite model-health alarm), the health dashboard, the
environment's budget and the scheduled production drift check.

Everything it watches is found by name (`keel.naming`, `keel.monitoring.names`), so it needs no outputs of
other stacks except the keys; alerts go to the security stack's encrypted alert topic, by ARN.
"""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import Duration, RemovalPolicy, Stack
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cloudwatch_actions
from aws_cdk import aws_sns as sns
from constructs import Construct

from keel.config import EnvironmentConfig
from keel.contract import DatasetContract
from keel.feedback.names import FeedbackFunction, function_name
from keel.monitoring.alarms import alarm_set
from keel.monitoring.names import function_alarm_name
from keel.monitoring.runtime_settings import publisher_settings
from keel.monitoring.settings import MonitoringSettings, monitoring_settings
from keel.naming import alert_topic_name, partition
from stacks.constructs.python_function import PythonFunction
from stacks.monitoring.alarms import KeelAlarms
from stacks.monitoring.budget import EnvironmentBudget, allow_budget_alerts
from stacks.monitoring.dashboard import HealthDashboard
from stacks.monitoring.drift_check import HANDLER, DriftCheck
from stacks.monitoring.function_alarms import FunctionAlarms
from stacks.security.keys import KeelKeys


class MonitoringStack(Stack):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: EnvironmentConfig,
        contract: DatasetContract,
        keys: KeelKeys,
        removal_policy: RemovalPolicy = RemovalPolicy.RETAIN,
        settings: MonitoringSettings | None = None,
        alert_topic: sns.Topic | None = None,
        watched_functions: Sequence[PythonFunction] = (),
        **kwargs: object,
    ) -> None:
        """`alert_topic`: the security stack's topic object, to let AWS Budgets publish to it (adds a topic
        and a key policy statement there); without it the budget still alerts the topic, but AWS Budgets is
        only allowed to once those statements exist. `watched_functions`: Lambdas of other stacks to show on
        the dashboard (their alarms live with them)."""
        super().__init__(scope, construct_id, **kwargs)  # type: ignore[arg-type]
        self.config = config
        self.settings = settings or monitoring_settings(config)
        topic_arn = f"arn:{partition(config)}:sns:{config.region}:{config.account}:{alert_topic_name(config)}"
        self.alert_topic = sns.Topic.from_topic_arn(self, "AlertTopic", topic_arn)
        self.alarm_set = alarm_set(config, self.settings)
        self.alarms = KeelAlarms(
            self, "Alarms", alarms=self.alarm_set, alert_topic=self.alert_topic, prefix=config.prefix
        )
        self.drift_check = DriftCheck(
            self,
            "DriftCheck",
            config=config,
            settings=self.settings,
            publisher=publisher_settings(config, self.settings),
            artifacts_key=keys.artifacts,
            logs_key=keys.logs,
            removal_policy=removal_policy,
        )
        self.function_alarms = [
            FunctionAlarms(
                self,
                "DriftPublisherAlarms",
                config=config,
                function=self.drift_check.lambda_,
                short_name=HANDLER.replace("_", "-"),
                alert_topic=self.alert_topic,
            )
        ]
        self.throttle_alarms = self._feedback_throttles(config)
        self.budget = EnvironmentBudget(
            self, "Budget", config=config, settings=self.settings, alert_topic_arn=topic_arn
        )
        if alert_topic is not None:
            allow_budget_alerts(alert_topic, keys.logs, account=config.account)
        functions = [self.drift_check.lambda_, *watched_functions]
        self.dashboard = HealthDashboard(
            self,
            "Dashboard",
            config=config,
            contract=contract,
            settings=self.settings,
            alarm_set=self.alarm_set,
            alarms=self.alarms.by_name,
            model_health=self.alarms.model_health,
            function_names=[
                *[f.function.function_name for f in functions],
                *[function_name(config, f) for f in FeedbackFunction],
            ],
            queues=[
                (f.function.function_name.removeprefix(f"{config.prefix}-"), f.dead_letter_queue.queue_name)
                for f in functions
            ],
        )

    def _feedback_throttles(self, config: EnvironmentConfig) -> list[cloudwatch.Alarm]:
        """Throttling of the feedback loops' functions (their error and DLQ alarms live in their stack)."""
        alarms = []
        action = cloudwatch_actions.SnsAction(self.alert_topic)
        for function in FeedbackFunction:
            name = function_name(config, function)
            short = function.value.replace("_", "-")
            alarm = cloudwatch.Alarm(
                self,
                f"{short.title().replace('-', '')}Throttles",
                alarm_name=function_alarm_name(config, short, "throttles"),
                alarm_description=f"{name} was throttled (reserved concurrency reached): events wait",
                metric=cloudwatch.Metric(
                    namespace="AWS/Lambda",
                    metric_name="Throttles",
                    dimensions_map={"FunctionName": name},
                    statistic="Sum",
                    period=Duration.minutes(5),
                ),
                threshold=1,
                evaluation_periods=1,
                comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
                treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            )
            alarm.add_alarm_action(action)
            alarm.add_ok_action(action)
            alarms.append(alarm)
        return alarms
