"""Names of the feedback loops' resources and of the S3 layout they read and write (one place).

Alarm names follow `keel.naming.alarm_name(config, AlarmKind.DRIFT | AlarmKind.MODEL_QUALITY, ...)`; the
performance trigger matches them by `keel.naming.alarm_prefix`.
"""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING

from keel.naming import AlarmKind, StackConcern, alarm_name, alarm_prefix, lambda_function_name, stack_name

if TYPE_CHECKING:  # CDK-side config: annotations only, so no Lambda imports it
    from keel.config import EnvironmentConfig

# Alarm families whose ALARM state starts a retraining.
RETRAIN_ALARM_KINDS = (AlarmKind.DRIFT, AlarmKind.MODEL_QUALITY)

# The model-quality metric the human feedback loop publishes (namespace keel.naming.METRICS_NAMESPACE):
# one sample per stored correction, 1 if the prediction was right and 0 if the reviewer corrected it, so the
# Average statistic over a period is the accuracy of the predictions reviewed in it.
FEEDBACK_ACCURACY_METRIC = "FeedbackAccuracy"
ENVIRONMENT_DIMENSION = "Environment"

# Lineage: one trigger record per started execution, next to the runner's execution records.
TRIGGER_PREFIX = "lineage/triggers/"

# Feedback bucket layout: reviewers drop files in `incoming/`; the catalogued dataset lives in `corrections/`.
INCOMING_PREFIX = "incoming/"
CORRECTIONS_PREFIX = "corrections/"

# Files Keel's own loops write into the landing prefix; the data trigger does not start executions for them
# (the stream and feedback loops decide retraining themselves).
STREAM_FILE_PREFIX = "stream-"
FEEDBACK_FILE_PREFIX = "feedback-"
DERIVED_FILE_PREFIXES = (STREAM_FILE_PREFIX, FEEDBACK_FILE_PREFIX)


class FeedbackFunction(StrEnum):
    """The feedback loops' Lambda functions; the value is the folder under `lambdas/`."""

    DATA_TRIGGER = "data_trigger"
    STREAM_INGEST = "stream_ingest"
    PERFORMANCE_TRIGGER = "performance_trigger"
    FEEDBACK_INGEST = "feedback_ingest"


def feedback_stack_name(config: EnvironmentConfig) -> str:
    return stack_name(config, StackConcern.FEEDBACK)


def function_name(config: EnvironmentConfig, function: FeedbackFunction) -> str:
    return lambda_function_name(config, function.value)


def idempotency_table_name(config: EnvironmentConfig) -> str:
    return f"{config.prefix}-feedback-idempotency"


def state_table_name(config: EnvironmentConfig) -> str:
    return f"{config.prefix}-feedback-state"


def ingest_stream_name(config: EnvironmentConfig) -> str:
    return f"{config.prefix}-ingest"


def feedback_api_name(config: EnvironmentConfig) -> str:
    return f"{config.prefix}-feedback-api"


def function_error_alarm_name(config: EnvironmentConfig, function: FeedbackFunction) -> str:
    return alarm_name(config, AlarmKind.SYSTEM, f"{function.value.replace('_', '-')}-errors")


def retrain_alarm_prefixes(config: EnvironmentConfig) -> tuple[str, ...]:
    return tuple(alarm_prefix(config, kind) for kind in RETRAIN_ALARM_KINDS)


def feedback_accuracy_alarm_name(config: EnvironmentConfig) -> str:
    """The name the monitoring stack should give the alarm on FEEDBACK_ACCURACY_METRIC."""
    return alarm_name(config, AlarmKind.MODEL_QUALITY, "feedback-accuracy")
