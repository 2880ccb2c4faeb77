"""A governance Lambda: Keel's PythonFunction with the governance settings, an EventBridge rule, alarms, and
helpers that grant specific actions on named resources (each wildcard acknowledged with its reason)."""

from __future__ import annotations

import fcntl
from collections.abc import Sequence

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cloudwatch_actions
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from constructs import Construct

from keel.config import EnvironmentConfig
from keel.gate.settings import GovernanceSettings
from keel.naming import AlarmKind, alarm_name
from stacks.compliance import acknowledge
from stacks.constructs.lambda_bundle import BUNDLE_ROOT, bundle_lambda
from stacks.constructs.python_function import PythonFunction

# Third-party packages the handlers import (the Lambda runtime provides boto3).
DISTRIBUTIONS = (
    "aws-lambda-powertools",
    "pydantic",
    "pydantic-core",
    "typing-extensions",
    "annotated-types",
    "typing-inspection",
    "pyyaml",
    "aws-xray-sdk",
    "wrapt",
    "jmespath",
)
ALARM_PERIOD = Duration.minutes(5)
TARGET_RETRY_ATTEMPTS = 8
TARGET_MAX_EVENT_AGE = Duration.hours(24)


def bundle_once(handler_name: str) -> None:
    """Build the bundle under a cross-process lock (parallel synths share bundle_lambda's staging folder)."""
    BUNDLE_ROOT.mkdir(parents=True, exist_ok=True)
    with (BUNDLE_ROOT / f".{handler_name}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        bundle_lambda(handler_name, distributions=DISTRIBUTIONS)


class GovernanceFunction(Construct):
    """The function (settings in its environment), the rule that invokes it, and alarms on its failures."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: EnvironmentConfig,
        settings: GovernanceSettings,
        handler_name: str,
        description: str,
        logs_key: kms.IKey,
        alert_topic: sns.ITopic,
        removal_policy: RemovalPolicy,
        timeout_seconds: int,
        reserved_concurrency: int,
        extra_environment: dict[str, str] | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        self.config, self.settings = config, settings
        self.short_name = handler_name.replace("_", "-")
        bundle_once(handler_name)
        self.lambda_ = PythonFunction(
            self,
            "Lambda",
            config=config,
            handler_name=handler_name,
            description=description,
            logs_key=logs_key,
            removal_policy=removal_policy,
            reserved_concurrency=reserved_concurrency,
            timeout_seconds=timeout_seconds,
            environment={**settings.to_environ(), **(extra_environment or {})},
            distributions=DISTRIBUTIONS,
        )
        self.function, self.role = self.lambda_.function, self.lambda_.role
        self._wildcard_reasons: dict[str, list[str]] = {}
        self.dead_letter_queue = self.lambda_.dead_letter_queue
        action = cloudwatch_actions.SnsAction(alert_topic)
        for alarm_id, what, metric, text in (
            (
                "Errors",
                "errors",
                self.function.metric_errors(period=ALARM_PERIOD, statistic="Sum"),
                "failed; the event is retried, then kept in its dead-letter queue",
            ),
            (
                "DlqMessages",
                "dlq",
                self.dead_letter_queue.metric_approximate_number_of_messages_visible(
                    period=ALARM_PERIOD, statistic="Maximum"
                ),
                "has events in its dead-letter queue: they need a human",
            ),
        ):
            alarm = cloudwatch.Alarm(
                self,
                alarm_id,
                alarm_name=alarm_name(config, AlarmKind.SYSTEM, f"{self.short_name}-{what}"),
                alarm_description=f"{self.function.function_name} {text}",
                metric=metric,
                threshold=1,
                evaluation_periods=1,
                comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
                treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            )
            alarm.add_alarm_action(action)

    def invoke_on(self, rule_id: str, *, description: str, pattern: events.EventPattern) -> events.Rule:
        """An EventBridge rule that invokes the function; undeliverable events go to its dead-letter queue."""
        return events.Rule(
            self,
            rule_id,
            description=description,
            event_pattern=pattern,
            targets=[
                targets.LambdaFunction(
                    self.function,
                    dead_letter_queue=self.dead_letter_queue,
                    retry_attempts=TARGET_RETRY_ATTEMPTS,
                    max_event_age=TARGET_MAX_EVENT_AGE,
                )
            ],
        )

    def allow(
        self,
        sid: str,
        actions: Sequence[str],
        resources: Sequence[str],
        *,
        reason: str | None = None,
        conditions: dict[str, object] | None = None,
    ) -> None:
        """One statement of specific actions on named resources; `reason` acknowledges its wildcards."""
        self.role.add_to_policy(
            iam.PolicyStatement(
                sid=sid, actions=list(actions), resources=list(resources), conditions=conditions
            )
        )
        wildcards = [r for r in resources if "*" in r]
        if wildcards and reason is None:
            raise ValueError(f"{sid}: resources with wildcards need a reason: {wildcards}")
        for resource in wildcards:
            reasons = self._wildcard_reasons.setdefault(f"AwsSolutions-IAM5[Resource::{resource}]", [])
            if reason not in reasons:
                reasons.append(str(reason))

    def acknowledge_wildcards(self) -> None:
        """One acknowledgment per wildcard resource, with the reasons of every statement that uses it."""
        for rule_id, reasons in self._wildcard_reasons.items():
            acknowledge(self.role, " ".join(reasons), rule_id)
        self._wildcard_reasons.clear()

    def s3_objects(self, bucket: str, *prefixes: str) -> list[str]:
        return [f"arn:{self.settings.partition}:s3:::{bucket}/{prefix}*" for prefix in prefixes]

    def s3_bucket(self, bucket: str) -> str:
        return f"arn:{self.settings.partition}:s3:::{bucket}"
