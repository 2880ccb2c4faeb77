"""AWS::S3::Bucket with all the properties Keel sets, on create and on update.

moto's own model applies only `BucketEncryption` and `Tags`. This one creates the bucket through moto's
backend and maps every property below to the backend state that the S3 API then reports. Properties it
does not map are named in the server log instead of being dropped silently.
"""

from __future__ import annotations

import logging
from typing import Any, cast

from moto.core.common_models import CloudFormationModel
from moto.s3.exceptions import InvalidBucketState
from moto.s3.models import FakeBucket, S3Backend, s3_backends
from moto.utilities.utils import get_partition
from typing_extensions import override

from keel.local.cfn_models.base import Properties, as_bool, tag_dict
from keel.local.cfn_models.registry import register
from keel.local.extensions import Extension

LOG = logging.getLogger("keel.local")

MAPPED = frozenset(
    {
        "BucketName",
        "BucketEncryption",
        "VersioningConfiguration",
        "PublicAccessBlockConfiguration",
        "LoggingConfiguration",
        "NotificationConfiguration",
        "LifecycleConfiguration",
        "OwnershipControls",
        "ObjectLockEnabled",
        "ObjectLockConfiguration",
        "CorsConfiguration",
        "Tags",
    }
)
_PROPERTIES_ATTR = "_keel_cfn_properties"


def _backend(account_id: str, region_name: str) -> S3Backend:
    return s3_backends[account_id][get_partition(region_name)]


# -- CloudFormation property → moto backend state --------------------------------------------------------
def encryption(properties: Properties) -> dict[str, Any] | None:
    rules = (properties.get("BucketEncryption") or {}).get("ServerSideEncryptionConfiguration") or []
    if not rules:
        return None
    rule = rules[0]  # S3 holds one rule; CloudFormation allows only one as well
    default = dict(rule.get("ServerSideEncryptionByDefault") or {})
    result: dict[str, Any] = {"ApplyServerSideEncryptionByDefault": default}
    if "BucketKeyEnabled" in rule:
        result["BucketKeyEnabled"] = "true" if as_bool(rule["BucketKeyEnabled"]) else "false"
    return {"Rule": result}


def _filter(rule: dict[str, Any]) -> dict[str, Any]:
    prefix = rule.get("Prefix")
    tags = [{"Key": t["Key"], "Value": t["Value"]} for t in rule.get("TagFilters") or []]
    if tags and (prefix is not None or len(tags) > 1):
        return {"And": {"Prefix": prefix or "", "Tag": tags}}
    if tags:
        return {"Tag": tags[0]}
    return {"Prefix": prefix or ""}


def lifecycle_rules(properties: Properties) -> list[dict[str, Any]]:
    rules = []
    for cfn_rule in (properties.get("LifecycleConfiguration") or {}).get("Rules") or []:
        rule: dict[str, Any] = {"Status": cfn_rule.get("Status", "Enabled"), "Filter": _filter(cfn_rule)}
        if cfn_rule.get("Id"):
            rule["ID"] = cfn_rule["Id"]
        if "ExpirationInDays" in cfn_rule:
            rule["Expiration"] = {"Days": int(cfn_rule["ExpirationInDays"])}
        elif "ExpirationDate" in cfn_rule:
            rule["Expiration"] = {"Date": cfn_rule["ExpirationDate"]}
        elif as_bool(cfn_rule.get("ExpiredObjectDeleteMarker")):
            rule["Expiration"] = {"ExpiredObjectDeleteMarker": "true"}
        transitions = list(cfn_rule.get("Transitions") or [])
        if cfn_rule.get("Transition"):
            transitions.append(cfn_rule["Transition"])
        if transitions:
            rule["Transition"] = [
                {"StorageClass": t["StorageClass"]}
                | ({"Days": int(t["TransitionInDays"])} if "TransitionInDays" in t else {})
                | ({"Date": t["TransitionDate"]} if "TransitionDate" in t else {})
                for t in transitions
            ]
        expiration = dict(cfn_rule.get("NoncurrentVersionExpiration") or {})
        if "NoncurrentVersionExpirationInDays" in cfn_rule:
            expiration.setdefault("NoncurrentDays", cfn_rule["NoncurrentVersionExpirationInDays"])
        if expiration:
            rule["NoncurrentVersionExpiration"] = {"NoncurrentDays": int(expiration["NoncurrentDays"])}
        nv_transitions = list(cfn_rule.get("NoncurrentVersionTransitions") or [])
        if cfn_rule.get("NoncurrentVersionTransition"):
            nv_transitions.append(cfn_rule["NoncurrentVersionTransition"])
        if nv_transitions:
            rule["NoncurrentVersionTransition"] = [
                {"StorageClass": t["StorageClass"], "NoncurrentDays": int(t["TransitionInDays"])}
                | (
                    {"NewerNoncurrentVersions": t["NewerNoncurrentVersions"]}
                    if "NewerNoncurrentVersions" in t
                    else {}
                )
                for t in nv_transitions
            ]
        abort = cfn_rule.get("AbortIncompleteMultipartUpload")
        if abort:
            rule["AbortIncompleteMultipartUpload"] = {
                "DaysAfterInitiation": int(abort["DaysAfterInitiation"])
            }
        rules.append(rule)
    return rules


def _targets(configs: list[dict[str, Any]], cfn_key: str, api_key: str) -> list[dict[str, Any]]:
    targets = []
    for config in configs:
        target: dict[str, Any] = {api_key: config[cfn_key], "Event": [config["Event"]]}
        rules = ((config.get("Filter") or {}).get("S3Key") or {}).get("Rules")
        if rules:
            target["Filter"] = {
                "S3Key": {"FilterRule": [{"Name": r["Name"], "Value": r["Value"]} for r in rules]}
            }
        targets.append(target)
    return targets


def notification_configuration(properties: Properties) -> dict[str, Any] | None:
    cfn = properties.get("NotificationConfiguration") or {}
    config: dict[str, Any] = {}
    if as_bool(
        (cfn.get("EventBridgeConfiguration") or {}).get(
            "EventBridgeEnabled", "EventBridgeConfiguration" in cfn
        )
    ):
        config["EventBridgeConfiguration"] = {}
    for cfn_key, api_config, cfn_target, api_target in (
        ("TopicConfigurations", "TopicConfiguration", "Topic", "Topic"),
        ("QueueConfigurations", "QueueConfiguration", "Queue", "Queue"),
        ("LambdaConfigurations", "CloudFunctionConfiguration", "Function", "CloudFunction"),
    ):
        if cfn.get(cfn_key):
            config[api_config] = _targets(cfn[cfn_key], cfn_target, api_target)
    return config or None


def cors_rules(properties: Properties) -> list[dict[str, Any]]:
    return [
        {
            "AllowedMethod": rule["AllowedMethods"],
            "AllowedOrigin": rule["AllowedOrigins"],
            "AllowedHeader": rule.get("AllowedHeaders", []),
            "ExposeHeader": rule.get("ExposedHeaders", []),
        }
        | ({"MaxAgeSeconds": str(rule["MaxAge"])} if "MaxAge" in rule else {})
        | ({"ID": rule["Id"]} if "Id" in rule else {})
        for rule in (properties.get("CorsConfiguration") or {}).get("CorsRules") or []
    ]


def apply_properties(backend: S3Backend, bucket: FakeBucket, properties: Properties, old: Properties) -> None:
    """Make the bucket's state match `properties`; `old` tells which settings were removed."""
    name = bucket.name
    unmapped = sorted(set(properties) - MAPPED)
    if unmapped:
        LOG.warning("AWS::S3::Bucket %s: properties not emulated locally: %s", name, ", ".join(unmapped))

    bucket.encryption = encryption(properties)

    status = (properties.get("VersioningConfiguration") or {}).get("Status")
    if status == "Suspended" and bucket.object_lock_enabled:
        raise InvalidBucketState(
            "An Object Lock configuration is present on this bucket, "
            "so the versioning state cannot be changed."
        )
    if status:
        backend.put_bucket_versioning(name, status)
    elif old.get("VersioningConfiguration") and bucket.versioning_status == "Enabled":
        backend.put_bucket_versioning(name, "Suspended")  # versioning can be suspended, never removed

    block = properties.get("PublicAccessBlockConfiguration")
    if block:
        backend.put_public_access_block(name, {key: as_bool(value) for key, value in block.items()})
    elif old.get("PublicAccessBlockConfiguration"):
        backend.delete_public_access_block(name)

    logging_config = properties.get("LoggingConfiguration")
    if logging_config is not None:
        target = logging_config.get("DestinationBucketName") or name
        backend.get_bucket(target)  # must exist, as in S3
        # Set directly: moto insists on the target's policy/ACL already granting the log service, but
        # CloudFormation may create this bucket before the target's BucketPolicy, as S3 itself allows.
        bucket.logging = {"TargetBucket": target, "TargetPrefix": logging_config.get("LogFilePrefix", "")}
    else:
        bucket.logging = {}

    notifications = notification_configuration(properties)
    if notifications or old.get("NotificationConfiguration"):
        bucket.set_notification_configuration(notifications)

    rules = lifecycle_rules(properties)
    if rules:
        backend.put_bucket_lifecycle_configuration(name, rules)
    else:
        backend.delete_bucket_lifecycle(name)

    ownership = (properties.get("OwnershipControls") or {}).get("Rules") or []
    if ownership:
        backend.put_bucket_ownership_controls(name, ownership[0]["ObjectOwnership"])
    elif old.get("OwnershipControls"):
        backend.delete_bucket_ownership_controls(name)

    lock = properties.get("ObjectLockConfiguration") or {}
    if as_bool(properties.get("ObjectLockEnabled")) or lock.get("ObjectLockEnabled") == "Enabled":
        bucket.object_lock_enabled = True
        bucket.versioning_status = "Enabled"
    retention = (lock.get("Rule") or {}).get("DefaultRetention") or {}
    # Set directly: moto's API call refuses buckets that hold objects, S3 does not for a lock-enabled one.
    bucket.default_lock_mode = retention.get("Mode") or ""
    bucket.default_lock_days = int(retention.get("Days") or 0)
    bucket.default_lock_years = int(retention.get("Years") or 0)

    cors = cors_rules(properties)
    if cors:
        backend.put_bucket_cors(name, cors)
    elif old.get("CorsConfiguration"):
        backend.delete_bucket_cors(name)

    if "Tags" in properties:
        backend.put_bucket_tagging(name, tag_dict(properties))
    elif old.get("Tags"):
        backend.delete_bucket_tagging(name)

    setattr(bucket, _PROPERTIES_ATTR, properties)


class KeelBucket(FakeBucket):
    """Only the class methods are used: the resources are moto's own `FakeBucket` objects."""

    @staticmethod
    @override
    def cloudformation_type() -> str:
        return "AWS::S3::Bucket"

    @classmethod
    @override
    def create_from_cloudformation_json(
        cls,
        resource_name: str,
        cloudformation_json: Any,
        account_id: str,
        region_name: str,
        **kwargs: Any,
    ) -> FakeBucket:
        properties = dict(cloudformation_json.get("Properties") or {})
        backend = _backend(account_id, region_name)
        bucket = backend.create_bucket(resource_name, region_name)
        apply_properties(backend, bucket, properties, {})
        return bucket

    @classmethod
    @override
    def update_from_cloudformation_json(
        cls,
        original_resource: Any,
        new_resource_name: str,
        cloudformation_json: Any,
        account_id: str,
        region_name: str,
    ) -> FakeBucket:
        properties = dict(cloudformation_json.get("Properties") or {})
        backend = _backend(account_id, region_name)
        bucket: FakeBucket = original_resource
        if properties.get("BucketName", bucket.name) != bucket.name:  # a new name replaces the bucket
            new_bucket = cls.create_from_cloudformation_json(
                new_resource_name, cloudformation_json, account_id, region_name
            )
            cls.delete_from_cloudformation_json(bucket.name, cloudformation_json, account_id, region_name)
            return new_bucket
        apply_properties(backend, bucket, properties, getattr(bucket, _PROPERTIES_ATTR, {}))
        return bucket

    @classmethod
    @override
    def delete_from_cloudformation_json(
        cls, resource_name: str, cloudformation_json: Any, account_id: str, region_name: str
    ) -> None:
        backend = _backend(account_id, region_name)
        if resource_name not in backend.buckets:
            return  # already gone: CloudFormation treats that as deleted
        if backend.delete_bucket(resource_name) is None:
            # As in CloudFormation: a bucket that still holds objects cannot be deleted (DELETE_FAILED).
            raise BucketNotEmptyError(resource_name)


class BucketNotEmptyError(Exception):
    def __init__(self, bucket_name: str):
        super().__init__(f"The bucket you tried to delete is not empty: {bucket_name}")


def install() -> None:
    register(cast(type[CloudFormationModel], KeelBucket))


EXTENSION = Extension(
    name="cfn-s3-bucket",
    kind="cfn-model",
    what="AWS::S3::Bucket applies versioning, public access block, logging, notifications (EventBridge, "
    "SNS, SQS, Lambda), lifecycle, ownership controls, Object Lock, CORS, encryption incl. bucket key, tags "
    "— on create and update; refuses to delete a non-empty bucket",
    why="moto applies only encryption and tags, so a green deploy proved nothing about bucket settings",
    upstream=True,
    install=install,
)
