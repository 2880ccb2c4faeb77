"""The CloudTrail trail exists, is logging, validates its log files and is KMS-encrypted."""

from __future__ import annotations

from botocore.exceptions import ClientError

from keel.config import EnvironmentConfig
from keel.delivery.smoke import CheckFailedError, Permission, SmokeCheck, SmokeContext, is_not_found
from keel.naming import partition, trail_name


def check_audit_trail(context: SmokeContext) -> str:
    name = trail_name(context.config)
    cloudtrail = context.client("cloudtrail")
    try:
        trail = cloudtrail.get_trail(Name=name)["Trail"]
        status = cloudtrail.get_trail_status(Name=name)
    except ClientError as error:
        if is_not_found(error):
            raise CheckFailedError(f"CloudTrail trail {name} not found") from None
        raise
    problems = []
    if not status.get("IsLogging"):
        problems.append("is not logging")
    if not trail.get("LogFileValidationEnabled"):
        problems.append("does not validate log files")
    if not trail.get("KmsKeyId"):
        problems.append("is not KMS-encrypted")
    if problems:
        raise CheckFailedError(f"CloudTrail trail {name} {', '.join(problems)}")
    return f"{name} is logging (log-file validation, KMS)"


def permissions(config: EnvironmentConfig) -> list[Permission]:
    return [
        Permission(
            actions=("cloudtrail:GetTrail", "cloudtrail:GetTrailStatus"),
            resources=(
                f"arn:{partition(config)}:cloudtrail:{config.region}:{config.account}:trail/{trail_name(config)}",
            ),
        )
    ]


AUDIT_TRAIL = SmokeCheck(
    name="audit-trail",
    description="the CloudTrail trail is logging, validated and encrypted",
    run=check_audit_trail,
    permissions=permissions,
)
