"""Alarms on one of Keel's Lambda functions: errors, throttles and its dead-letter queue's depth, to the
alert topic. Used by the stack that owns the function (the feedback functions have their own)."""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cloudwatch_actions
from aws_cdk import aws_sns as sns
from constructs import Construct

from keel.config import EnvironmentConfig
from keel.monitoring.names import function_alarm_name
from stacks.constructs.python_function import PythonFunction

PERIOD = Duration.minutes(5)


class FunctionAlarms(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: EnvironmentConfig,
        function: PythonFunction,
        short_name: str,
        alert_topic: sns.ITopic,
    ) -> None:
        super().__init__(scope, construct_id)
        fn, action = function.function, cloudwatch_actions.SnsAction(alert_topic)
        self.alarms: list[cloudwatch.Alarm] = []
        for alarm_id, what, metric, description in (
            (
                "Errors",
                "errors",
                fn.metric_errors(period=PERIOD, statistic="Sum"),
                "failed; its events are retried, then kept in its dead-letter queue",
            ),
            (
                "Throttles",
                "throttles",
                fn.metric_throttles(period=PERIOD, statistic="Sum"),
                "was throttled (reserved concurrency reached)",
            ),
            (
                "DlqMessages",
                "dlq",
                function.dead_letter_queue.metric_approximate_number_of_messages_visible(
                    period=PERIOD, statistic="Maximum"
                ),
                "has events in its dead-letter queue: they need a human",
            ),
        ):
            alarm = cloudwatch.Alarm(
                self,
                alarm_id,
                alarm_name=function_alarm_name(config, short_name, what),
                alarm_description=f"{config.prefix}-{short_name} {description}",
                metric=metric,
                threshold=1,
                evaluation_periods=1,
                comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
                treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            )
            alarm.add_alarm_action(action)
            alarm.add_ok_action(action)
            self.alarms.append(alarm)
