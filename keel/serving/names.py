"""Names and S3 layout of serving: the endpoint's variant, data capture, deployment lineage and state."""

from __future__ import annotations

from typing import TYPE_CHECKING

from keel.naming import BucketPurpose, bucket_name, endpoint_name

if TYPE_CHECKING:  # CDK-side config: annotations only, so no Lambda imports it
    from keel.config import EnvironmentConfig

# One production variant, always this name: blue/green deployments require the new endpoint config to keep
# the variant name, and the endpoint alarms watch (EndpointName, VariantName).
VARIANT_NAME = "live"

# Data capture lives in the reports bucket (artifacts key): captured inputs carry only model features (PII
# columns never reach the model), and the reports bucket sends no EventBridge object events, so captured
# traffic can never start the data or feedback triggers.
CAPTURE_PREFIX = "data-capture/"
DEPLOYMENTS_PREFIX = "lineage/deployments/"
# Deployer state (the deployment in progress, an approval waiting for it): not lineage, overwritten.
STATE_PREFIX = "serving/state/"
DRIFT_REPORTS_PREFIX = "monitoring/drift/"
DRIFT_JOB_PREFIX = "monitoring/drift-jobs/"
CAPTURE_QUARANTINE_SOURCE = "data-capture"


def capture_bucket(config: EnvironmentConfig) -> str:
    return bucket_name(config, BucketPurpose.REPORTS)


def capture_uri(config: EnvironmentConfig) -> str:
    """Where SageMaker writes captured requests: `<uri>/<endpoint>/<variant>/yyyy/mm/dd/hh/*.jsonl`."""
    return f"s3://{capture_bucket(config)}/{CAPTURE_PREFIX.rstrip('/')}"


def endpoint_capture_uri(config: EnvironmentConfig) -> str:
    return f"{capture_uri(config)}/{endpoint_name(config)}/{VARIANT_NAME}/"


def deployment_record_key(version: int, stamp: str) -> str:
    return f"{DEPLOYMENTS_PREFIX}{version}/{stamp}.json"


def resource_prefix(config: EnvironmentConfig) -> str:
    """Models and endpoint configs the deployer creates are named `<prefix>-v<version>-<time>`."""
    return f"{config.prefix}-v"


def drift_job_prefix(config: EnvironmentConfig) -> str:
    return f"{config.prefix}-drift-"
