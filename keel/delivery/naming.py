"""Names of the delivery resources that both sides of a cross-account trust must spell identically.

The smoke-check step runs in the tooling account and assumes a read-only role in each environment's
account; neither side can reference the other's tokens, so the role names are deterministic.
"""

from __future__ import annotations

from keel.config import Delivery, EnvironmentConfig
from keel.naming import partition

PIPELINE_STACK_NAME = "KeelDelivery"
PIPELINE_NAME = "keel-delivery"
NOTIFICATION_TOPIC_NAME = "keel-delivery-notifications"


def smoke_check_stack_name(config: EnvironmentConfig) -> str:
    return f"Keel-{config.name}-SmokeCheck"


def smoke_check_role_name(config: EnvironmentConfig) -> str:
    """The read-only role in the environment's account that the smoke check assumes."""
    return f"{config.prefix}-smoke-check"


def smoke_check_role_arn(config: EnvironmentConfig) -> str:
    return f"arn:{partition(config)}:iam::{config.account}:role/{smoke_check_role_name(config)}"


def smoke_check_caller_role_name(config: EnvironmentConfig) -> str:
    """The CodeBuild role in the tooling account that runs one environment's smoke check."""
    return f"keel-delivery-smoke-{config.name}"


def smoke_check_caller_role_arn(delivery: Delivery, config: EnvironmentConfig) -> str:
    return f"arn:{partition(config)}:iam::{delivery.account}:role/{smoke_check_caller_role_name(config)}"


def delivery_bucket_name(delivery: Delivery, purpose: str) -> str:
    name = f"keel-delivery-{purpose}-{delivery.account}-{delivery.region}"
    if len(name) > 63:
        raise ValueError(f"bucket name {name!r} is longer than 63 characters")
    return name
