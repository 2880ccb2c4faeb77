"""The four feedback loops, each a function with its event sources (rules, stream, API)."""

from __future__ import annotations

from typing import Any

from aws_cdk import Duration
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_kinesis as kinesis
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as event_sources
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from keel.config import EnvironmentConfig
from keel.contract import DatasetContract
from keel.feedback import patterns
from keel.feedback.names import TRIGGER_PREFIX, ingest_stream_name
from keel.naming import QUARANTINE_PREFIX, BucketPurpose, bucket_name, glue_database_name, glue_table_name
from stacks.compliance import acknowledge, acknowledge_iam_lint
from stacks.feedback.function import FeedbackLambda

# How often the data trigger closes debounce windows that no later object closed.
SWEEP_PERIOD = Duration.minutes(1)
# EventBridge retries a failed delivery to Lambda with back-off for this long, then keeps it in the DLQ.
TARGET_RETRY_ATTEMPTS = 8
TARGET_MAX_EVENT_AGE = Duration.hours(6)
STREAM_RETRY_ATTEMPTS = 10
STREAM_BATCHING_WINDOW = Duration.seconds(5)  # micro-batches: fewer, larger objects from a trickle


def lambda_target(fn: FeedbackLambda) -> targets.LambdaFunction:
    return targets.LambdaFunction(
        fn.function,
        dead_letter_queue=fn.dead_letter_queue,
        retry_attempts=TARGET_RETRY_ATTEMPTS,
        max_event_age=TARGET_MAX_EVENT_AGE,
    )


def event_pattern(pattern: dict[str, Any]) -> events.EventPattern:
    """The CDK form of a `keel.feedback.patterns` pattern."""
    return events.EventPattern(
        source=pattern["source"], detail_type=pattern["detail-type"], detail=pattern["detail"]
    )


class DataTriggerLoop(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: EnvironmentConfig,
        contract: DatasetContract,
        function: FeedbackLambda,
        data_key: kms.IKey,
        artifacts_key: kms.IKey,
    ) -> None:
        super().__init__(scope, construct_id)
        raw = bucket_name(config, BucketPurpose.RAW)
        function.allow_start_pipeline()
        function.allow_put("KeepRejectedObjects", raw, [QUARANTINE_PREFIX], data_key)
        function.allow_put(
            "WriteTriggerRecords", bucket_name(config, BucketPurpose.REPORTS), [TRIGGER_PREFIX], artifacts_key
        )
        self.rule = events.Rule(
            self,
            "ObjectCreated",
            description=f"Objects landing under {contract.landing_prefix} of the raw bucket start training "
            f"(debounced {config.feedback.debounce_seconds}s).",
            event_pattern=event_pattern(patterns.landed_data(config, contract)),
            targets=[lambda_target(function)],
        )
        self.sweep: events.Rule | None = None
        if config.feedback.debounce_seconds > 0:
            self.sweep = events.Rule(
                self,
                "Sweep",
                description="Closes debounce windows whose time is over when no later object arrives.",
                schedule=events.Schedule.rate(SWEEP_PERIOD),
                targets=[lambda_target(function)],
            )


class StreamLoop(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: EnvironmentConfig,
        contract: DatasetContract,
        function: FeedbackLambda,
        data_key: kms.IKey,
        artifacts_key: kms.IKey,
        logs_key: kms.IKey,
    ) -> None:
        super().__init__(scope, construct_id)
        feedback = config.feedback
        self.stream = kinesis.Stream(
            self,
            "Stream",
            stream_name=ingest_stream_name(config),
            stream_mode=kinesis.StreamMode.PROVISIONED,
            shard_count=feedback.stream_shard_count,
            retention_period=Duration.hours(feedback.stream_retention_hours),
            encryption=kinesis.StreamEncryption.KMS,
            encryption_key=data_key,
        )
        acknowledge(
            self.stream,
            "Encrypted with Keel's customer-managed data key (rotation, key policy, CloudTrail on use) like "
            "every other copy of the dataset, rather than the AWS-managed aws/kinesis key.",
            "AwsSolutions-KDS3",
        )
        # Kinesis sends metadata of batches that failed every retry (shard, sequence range) here; the records
        # stay in the stream for its retention, to be replayed from that range.
        self.on_failure = sqs.Queue(
            self,
            "OnFailure",
            encryption=sqs.QueueEncryption.KMS,
            encryption_master_key=logs_key,
            enforce_ssl=True,
            retention_period=Duration.days(14),
        )
        acknowledge(
            self.on_failure,
            "This queue is itself the on-failure destination of the stream's event source mapping.",
            "AwsSolutions-SQS3",
            "Serverless-SQSRedrivePolicy",
        )
        function.function.add_event_source(
            event_sources.KinesisEventSource(
                self.stream,
                starting_position=lambda_.StartingPosition.TRIM_HORIZON,
                batch_size=feedback.stream_batch_size,
                max_batching_window=STREAM_BATCHING_WINDOW,
                bisect_batch_on_error=True,
                report_batch_item_failures=True,
                retry_attempts=STREAM_RETRY_ATTEMPTS,
                max_record_age=Duration.hours(min(feedback.stream_retention_hours, 7 * 24)),
                parallelization_factor=1,
                on_failure=event_sources.SqsDlq(self.on_failure),
            )
        )
        acknowledge_iam_lint(
            function.role,
            "The CDK's Kinesis event source grants the stream's read actions on the stream ARN, where three "
            "match nothing: SubscribeToShard and DescribeStreamConsumer take a consumer ARN (enhanced "
            "fan-out, not used: the mapping polls shards) and ListStreams takes only Resource *.",
            "RESOURCE_MISMATCH[kinesis:SubscribeToShard]",
            "RESOURCE_MISMATCH[kinesis:DescribeStreamConsumer]",
            "RESOURCE_MISMATCH[kinesis:ListStreams]",
        )
        raw = bucket_name(config, BucketPurpose.RAW)
        function.allow_start_pipeline()
        function.allow_put("WriteMicroBatches", raw, [contract.landing_prefix, QUARANTINE_PREFIX], data_key)
        function.allow_put(
            "WriteTriggerRecords", bucket_name(config, BucketPurpose.REPORTS), [TRIGGER_PREFIX], artifacts_key
        )
        function.allow_partitions(
            glue_database_name(config), glue_table_name(contract.name, BucketPurpose.RAW), data_key
        )
        function.alarm_on_queue(self.on_failure, "on-failure")


class PerformanceLoop(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: EnvironmentConfig,
        function: FeedbackLambda,
        artifacts_key: kms.IKey,
    ) -> None:
        super().__init__(scope, construct_id)
        reports = bucket_name(config, BucketPurpose.REPORTS)
        function.allow_start_pipeline()
        function.allow_put("WriteTriggerRecords", reports, [TRIGGER_PREFIX, QUARANTINE_PREFIX], artifacts_key)
        self.alarm_rule = events.Rule(
            self,
            "RetrainAlarms",
            description="Keel drift and model-quality alarms entering ALARM start a retraining (cool-down).",
            event_pattern=event_pattern(patterns.retrain_alarms(config)),
            targets=[lambda_target(function)],
        )
        self.schedule: events.Rule | None = None
        if config.feedback.retrain_schedule:
            self.schedule = events.Rule(
                self,
                "Schedule",
                description="Scheduled retraining (feedback.retrain_schedule).",
                schedule=events.Schedule.expression(config.feedback.retrain_schedule),
                targets=[lambda_target(function)],
            )
