"""A feedback loop's Lambda: Keel's PythonFunction with the loop's environment, tables and alarms."""

from __future__ import annotations

import fcntl
from collections.abc import Sequence
from pathlib import Path

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cloudwatch_actions
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from keel.config import EnvironmentConfig
from keel.feedback.names import FeedbackFunction, function_error_alarm_name
from keel.feedback.settings import function_environment
from keel.naming import AlarmKind, alarm_name, partition, pipeline_name
from stacks.compliance import acknowledge, acknowledge_iam_lint
from stacks.constructs.lambda_bundle import BUNDLE_ROOT, bundle_lambda
from stacks.constructs.python_function import PythonFunction
from stacks.feedback.tables import FeedbackTables

# The third-party packages the handlers import (the Lambda runtime provides boto3).
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
ERROR_PERIOD = Duration.minutes(5)


def bundle_once(name: str) -> Path:
    """Build the bundle under a cross-process lock: concurrent synths (pytest-xdist workers) otherwise share
    `bundle_lambda`'s staging folder and remove it under each other. PythonFunction then finds it built."""
    BUNDLE_ROOT.mkdir(parents=True, exist_ok=True)
    with (BUNDLE_ROOT / f".{name}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        return bundle_lambda(name, distributions=DISTRIBUTIONS)


def s3_object_arns(config: EnvironmentConfig, bucket: str, *prefixes: str) -> list[str]:
    return [f"arn:{partition(config)}:s3:::{bucket}/{prefix}*" for prefix in prefixes]


class FeedbackLambda(Construct):
    """The function, its tables and key grants, and alarms on its errors and its dead-letter queue."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: EnvironmentConfig,
        function: FeedbackFunction,
        description: str,
        logs_key: kms.IKey,
        tables: FeedbackTables,
        alert_topic: sns.ITopic,
        removal_policy: RemovalPolicy,
        timeout_seconds: int = 60,
    ) -> None:
        super().__init__(scope, construct_id)
        self.config = config
        bundle_once(function.value)
        self.lambda_ = PythonFunction(
            self,
            "Lambda",
            config=config,
            handler_name=function.value,
            description=description,
            logs_key=logs_key,
            removal_policy=removal_policy,
            reserved_concurrency=config.feedback.reserved_concurrency,
            timeout_seconds=timeout_seconds,
            environment=function_environment(config, function),
            distributions=DISTRIBUTIONS,
        )
        self.function = self.lambda_.function
        self.role = self.lambda_.role
        self.dead_letter_queue: sqs.IQueue = self.lambda_.dead_letter_queue
        tables.grant(self.role)
        acknowledge_iam_lint(
            self.role,
            "The CDK's table grants (grant_read_write_data) add the stream actions GetRecords and "
            "GetShardIterator on the table ARNs; Keel's tables have no stream, so they grant nothing.",
            "RESOURCE_MISMATCH[dynamodb:GetRecords]",
            "RESOURCE_MISMATCH[dynamodb:GetShardIterator]",
        )
        acknowledge(
            self.role,
            "kms:GenerateDataKey* and kms:ReEncrypt* are the action families of the CDK's key grants (table "
            "items, S3 objects); every statement names one Keel key.",
            "AwsSolutions-IAM5[Action::kms:GenerateDataKey*]",
            "AwsSolutions-IAM5[Action::kms:ReEncrypt*]",
        )
        self.function_id = function
        self.alarm_action = cloudwatch_actions.SnsAction(alert_topic)
        self.error_alarm = cloudwatch.Alarm(
            self,
            "Errors",
            alarm_name=function_error_alarm_name(config, function),
            alarm_description=f"{self.function.function_name} failed (its events are retried, then kept in "
            "its dead-letter queue)",
            metric=self.function.metric_errors(period=ERROR_PERIOD, statistic="Sum"),
            threshold=1,
            evaluation_periods=1,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )
        self.error_alarm.add_alarm_action(self.alarm_action)
        self.alarm_on_queue(self.dead_letter_queue, "dlq")

    def alarm_on_queue(self, queue: sqs.IQueue, suffix: str) -> cloudwatch.Alarm:
        """Anything kept in a dead-letter/on-failure queue needs a human: alarm on the first message."""
        alarm = cloudwatch.Alarm(
            self,
            f"{suffix.title().replace('-', '')}Messages",
            alarm_name=alarm_name(
                self.config, AlarmKind.SYSTEM, f"{self.function_id.value.replace('_', '-')}-{suffix}"
            ),
            alarm_description=f"Events of {self.function_id.value} were kept in its {suffix} queue after "
            "failed retries",
            metric=queue.metric_approximate_number_of_messages_visible(
                period=ERROR_PERIOD, statistic="Maximum"
            ),
            threshold=1,
            evaluation_periods=1,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )
        alarm.add_alarm_action(self.alarm_action)
        return alarm

    def allow_start_pipeline(self) -> None:
        config = self.config
        self.role.add_to_policy(
            iam.PolicyStatement(
                sid="StartTrainingPipeline",
                actions=["sagemaker:StartPipelineExecution"],
                resources=[
                    f"arn:{partition(config)}:sagemaker:{config.region}:{config.account}:pipeline/"
                    f"{pipeline_name(config)}"
                ],
            )
        )

    def allow_put(self, sid: str, bucket: str, prefixes: Sequence[str], key: kms.IKey) -> None:
        self._allow_objects(sid, ["s3:PutObject"], bucket, prefixes, "writes")
        key.grant_encrypt_decrypt(self.role)

    def allow_get(self, sid: str, bucket: str, prefixes: Sequence[str], key: kms.IKey) -> None:
        self._allow_objects(sid, ["s3:GetObject", "s3:GetObjectVersion"], bucket, prefixes, "reads")
        key.grant_decrypt(self.role)

    def _allow_objects(
        self, sid: str, actions: list[str], bucket: str, prefixes: Sequence[str], verb: str
    ) -> None:
        arns = s3_object_arns(self.config, bucket, *prefixes)
        self.role.add_to_policy(iam.PolicyStatement(sid=sid, actions=actions, resources=arns))
        acknowledge(
            self.role,
            f"The function {verb} objects whose keys are made at run time (dates, batches, event ids), only "
            f"under the named prefixes of {bucket}.",
            *(f"AwsSolutions-IAM5[Resource::{arn}]" for arn in arns),
        )

    def allow_partitions(self, database: str, table: str, data_key: kms.IKey) -> None:
        """Register Hive partitions of one Glue table (the catalog is encrypted with the data key)."""
        config = self.config
        base = f"arn:{partition(config)}:glue:{config.region}:{config.account}"
        self.role.add_to_policy(
            iam.PolicyStatement(
                sid="RegisterPartitions",
                actions=[
                    "glue:GetTable",
                    "glue:GetPartition",
                    "glue:CreatePartition",
                    "glue:BatchCreatePartition",
                ],
                resources=[
                    f"{base}:catalog",
                    f"{base}:database/{database}",
                    f"{base}:table/{database}/{table}",
                ],
            )
        )
        data_key.grant_encrypt_decrypt(self.role)
