"""Resource names derived from the environment config: the one place that spells them.

Physical names are deterministic so that stacks can refer to each other's resources without
cross-stack cycles (e.g. the trail's data-event selectors name the data buckets) and so that the
local runner, the CLI and the Lambdas find them from the config alone.
"""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # CDK-side config: annotations only, so no Lambda imports it
    from keel.config import EnvironmentConfig


class BucketPurpose(StrEnum):
    RAW = "raw"
    CURATED = "curated"
    ARTIFACTS = "artifacts"
    FEEDBACK = "feedback"
    REPORTS = "reports"
    EVIDENCE = "evidence"
    ACCESS_LOGS = "access-logs"
    AUDIT_ACCESS_LOGS = "audit-logs"
    TRAIL = "trail"


class KeyPurpose(StrEnum):
    DATA = "data"
    ARTIFACTS = "artifacts"
    LOGS = "logs"


class StackConcern(StrEnum):
    SECURITY = "Security"
    DATA = "Data"
    ML = "ML"
    FEEDBACK = "Feedback"
    GOVERNANCE = "Governance"
    MONITORING = "Monitoring"
    SERVING = "Serving"
    # In us-east-1, for an environment in another region: forwards global services' events (IAM).
    GLOBAL_EVENTS = "GlobalEvents"


# Buckets that hold datasets: CloudTrail records data events on them and Macie classifies them.
DATA_EVENT_BUCKETS = (BucketPurpose.RAW, BucketPurpose.CURATED, BucketPurpose.FEEDBACK)
MACIE_BUCKETS = (BucketPurpose.RAW, BucketPurpose.FEEDBACK)

# The InputObjectVersion of an execution that reads the current version of every object under its input
# URI (a folder, or an unversioned object); SageMaker refuses empty customer-metadata values.
LATEST_VERSIONS = "latest"
QUARANTINE_PREFIX = "quarantine/"


def stack_name(config: EnvironmentConfig, concern: StackConcern) -> str:
    return f"Keel-{config.name}-{concern.value}"


def lambda_function_name(config: EnvironmentConfig, handler_name: str) -> str:
    """Physical name of the Lambda whose code is `lambdas/<handler_name>/`."""
    return f"{config.prefix}-{handler_name.replace('_', '-')}"


def bucket_name(config: EnvironmentConfig, purpose: BucketPurpose) -> str:
    name = f"{config.prefix}-{purpose.value}-{config.account}-{config.region}"
    if len(name) > 63:
        raise ValueError(f"bucket name {name!r} is longer than 63 characters: shorten 'prefix'")
    return name


def key_alias(config: EnvironmentConfig, purpose: KeyPurpose) -> str:
    return f"alias/{config.prefix}/{purpose.value}"


def glue_database_name(config: EnvironmentConfig) -> str:
    return f"{config.prefix}_catalog".replace("-", "_")


def glue_table_name(dataset: str, layer: BucketPurpose) -> str:
    return f"{dataset}_{layer.value}"


def trail_name(config: EnvironmentConfig) -> str:
    return f"{config.prefix}-audit-trail"


def alert_topic_name(config: EnvironmentConfig) -> str:
    return f"{config.prefix}-alerts"


def glue_security_configuration_name(config: EnvironmentConfig) -> str:
    return f"{config.prefix}-glue-security"


def macie_job_name(config: EnvironmentConfig) -> str:
    return f"{config.prefix}-data-classification"


def partition(config: EnvironmentConfig) -> str:
    """The AWS partition of the environment's region (known at synth time, unlike the CDK token)."""
    if config.region.startswith("cn-"):
        return "aws-cn"
    if config.region.startswith("us-gov-"):
        return "aws-us-gov"
    return "aws"


def pipeline_name(config: EnvironmentConfig) -> str:
    return f"{config.prefix}-training"


def model_package_group_name(config: EnvironmentConfig) -> str:
    return f"{config.prefix}-models"


def pipeline_role_name(config: EnvironmentConfig) -> str:
    return f"{config.prefix}-pipeline"


def job_role_name(config: EnvironmentConfig) -> str:
    return f"{config.prefix}-pipeline-jobs"


class AlarmKind(StrEnum):
    """Alarm families; the performance trigger retrains on state changes of DRIFT and MODEL_QUALITY ones."""

    DRIFT = "drift"
    MODEL_QUALITY = "model-quality"
    SYSTEM = "system"


def alarm_prefix(config: EnvironmentConfig, kind: AlarmKind) -> str:
    return f"{config.prefix}-{kind.value}-"


def alarm_name(config: EnvironmentConfig, kind: AlarmKind, name: str) -> str:
    return f"{alarm_prefix(config, kind)}{name}"


METRICS_NAMESPACE = "Keel"


def endpoint_name(config: EnvironmentConfig) -> str:
    return f"{config.prefix}-endpoint"


EVIDENCE_PREFIX = "evidence/"
