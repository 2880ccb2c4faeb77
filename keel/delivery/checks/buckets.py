"""Every Keel bucket exists, is versioned and encrypted (SSE-KMS; SSE-S3 for server access log targets,
which S3 log delivery requires)."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from keel.config import EnvironmentConfig
from keel.delivery.smoke import CheckFailedError, Permission, SmokeCheck, SmokeContext, is_not_found
from keel.naming import BucketPurpose, bucket_name, partition

SSE_S3_PURPOSES = (BucketPurpose.ACCESS_LOGS, BucketPurpose.AUDIT_ACCESS_LOGS)


def expected_algorithm(purpose: BucketPurpose) -> str:
    return "AES256" if purpose in SSE_S3_PURPOSES else "aws:kms"


def _bucket_problem(s3: Any, name: str, purpose: BucketPurpose) -> str | None:
    try:
        versioning = s3.get_bucket_versioning(Bucket=name)
        rules = s3.get_bucket_encryption(Bucket=name)["ServerSideEncryptionConfiguration"]["Rules"]
    except ClientError as error:
        if is_not_found(error):
            return f"{name} does not exist"
        if error.response.get("Error", {}).get("Code") == "ServerSideEncryptionConfigurationNotFoundError":
            return f"{name} has no default encryption"
        raise
    problems = []
    if versioning.get("Status") != "Enabled":
        problems.append(f"versioning is {versioning.get('Status', 'off')}")
    algorithms = {r.get("ApplyServerSideEncryptionByDefault", {}).get("SSEAlgorithm") for r in rules}
    if expected_algorithm(purpose) not in algorithms:
        problems.append(
            f"encryption is {', '.join(sorted(map(str, algorithms)))}, expected {expected_algorithm(purpose)}"
        )
    return f"{name}: {'; '.join(problems)}" if problems else None


def check_buckets(context: SmokeContext) -> str:
    s3 = context.client("s3")
    problems = [
        problem
        for purpose in BucketPurpose
        if (problem := _bucket_problem(s3, bucket_name(context.config, purpose), purpose))
    ]
    if problems:
        raise CheckFailedError("\n".join(problems))
    return f"{len(BucketPurpose)} buckets versioned and encrypted"


def permissions(config: EnvironmentConfig) -> list[Permission]:
    return [
        Permission(
            actions=("s3:GetBucketVersioning", "s3:GetEncryptionConfiguration"),
            resources=tuple(
                f"arn:{partition(config)}:s3:::{bucket_name(config, purpose)}" for purpose in BucketPurpose
            ),
        )
    ]


BUCKETS = SmokeCheck(
    name="buckets",
    description="every bucket exists, versioned and encrypted",
    run=check_buckets,
    permissions=permissions,
)
