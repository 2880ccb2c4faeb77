"""AWS::CloudTrail::Trail through moto's CloudTrail backend, started or stopped as `IsLogging` says.

moto skips the type. Also makes DescribeTrails' `HasCustomEventSelectors`/`HasInsightSelectors` reflect
the trail (moto always answers false).
"""

from __future__ import annotations

import copy
from typing import Any, Self

from moto.cloudtrail.models import CloudTrailBackend, Trail, cloudtrail_backends
from typing_extensions import override

from keel.local.cfn_models.base import KeelModel, Properties, as_bool, tag_list
from keel.local.cfn_models.registry import register
from keel.local.extensions import Extension


class CloudTrailTrail(KeelModel):
    TYPE = "AWS::CloudTrail::Trail"
    NAME_PROPERTY = "TrailName"
    CREATE_ONLY = ("TrailName",)
    ATTRIBUTES = ("Arn", "SnsTopicArn")

    def _backend(self) -> CloudTrailBackend:
        return cloudtrail_backends[self.account_id][self.region_name]

    def _trail(self) -> Trail:
        return self._backend().get_trail(self.physical_id)

    @classmethod
    @override
    def create(cls, name: str, properties: Properties, account_id: str, region_name: str) -> Self:
        cloudtrail_backends[account_id][region_name].create_trail(
            name=name,
            bucket_name=properties["S3BucketName"],
            s3_key_prefix=properties.get("S3KeyPrefix"),  # type: ignore[arg-type]
            sns_topic_name=properties.get("SnsTopicName"),  # type: ignore[arg-type]
            is_global=as_bool(properties.get("IncludeGlobalServiceEvents"), default=True),
            is_multi_region=as_bool(properties.get("IsMultiRegionTrail")),
            log_validation=as_bool(properties.get("EnableLogFileValidation")),
            is_org_trail=as_bool(properties.get("IsOrganizationTrail")),
            cw_log_group_arn=properties.get("CloudWatchLogsLogGroupArn"),  # type: ignore[arg-type]
            cw_role_arn=properties.get("CloudWatchLogsRoleArn"),  # type: ignore[arg-type]
            kms_key_id=properties.get("KMSKeyId"),  # type: ignore[arg-type]
            tags_list=tag_list(properties),
        )
        trail = cls(account_id=account_id, region_name=region_name, physical_id=name, properties={})
        trail._apply_selectors_and_logging(properties)
        return trail

    @override
    def apply(self, properties: Properties) -> None:
        trail: Any = self._trail()  # moto types these attributes as str, CloudFormation may unset them
        # Set directly: moto's update ignores None, so a removed setting would stay.
        trail.bucket_name = properties["S3BucketName"]
        trail.check_bucket_exists()
        trail.s3_key_prefix = properties.get("S3KeyPrefix")
        trail.sns_topic_name = properties.get("SnsTopicName")
        trail.check_topic_exists()
        trail.include_global_service_events = as_bool(
            properties.get("IncludeGlobalServiceEvents"), default=True
        )
        trail.is_multi_region = as_bool(properties.get("IsMultiRegionTrail"))
        trail.log_validation = as_bool(properties.get("EnableLogFileValidation"))
        trail.is_org_trail = as_bool(properties.get("IsOrganizationTrail"))
        trail.cw_log_group_arn = properties.get("CloudWatchLogsLogGroupArn")
        trail.cw_role_arn = properties.get("CloudWatchLogsRoleArn")
        trail.kms_key_id = properties.get("KMSKeyId")
        backend = self._backend()
        if tag_list(self.properties):
            backend.remove_tags(trail.arn, tag_list(self.properties))
        if tag_list(properties):
            backend.add_tags(trail.arn, tag_list(properties))
        self._apply_selectors_and_logging(properties)

    def _apply_selectors_and_logging(self, properties: Properties) -> None:
        trail = self._trail()
        trail.event_selectors = copy.deepcopy(properties.get("EventSelectors") or [])
        trail.advanced_event_selectors = copy.deepcopy(properties.get("AdvancedEventSelectors") or [])
        trail.insight_selectors = copy.deepcopy(properties.get("InsightSelectors") or [])
        if as_bool(properties.get("IsLogging")):
            if not trail.status.is_logging:
                trail.start_logging()
        elif trail.status.is_logging:
            trail.stop_logging()

    @override
    def remove(self) -> None:
        self._backend().delete_trail(self.physical_id)

    @override
    def attribute(self, name: str) -> Any:
        trail = self._trail()
        return trail.arn if name == "Arn" else trail.topic_arn


def _describe_selectors_truthfully() -> None:
    original = Trail.description

    def description(self: Trail, include_region: bool = False) -> dict[str, Any]:
        desc = original(self, include_region)
        desc["HasCustomEventSelectors"] = bool(self.event_selectors or self.advanced_event_selectors)
        desc["HasInsightSelectors"] = bool(self.insight_selectors)
        return desc

    Trail.description = description  # type: ignore[method-assign]


def install() -> None:
    register(CloudTrailTrail)
    _describe_selectors_truthfully()


EXTENSION = Extension(
    name="cfn-cloudtrail-trail",
    kind="cfn-model",
    what="AWS::CloudTrail::Trail incl. EventSelectors/AdvancedEventSelectors/InsightSelectors, log file "
    "validation, KMS, CloudWatch Logs, multi-region, tags; IsLogging starts/stops logging; "
    "DescribeTrails reports HasCustomEventSelectors/HasInsightSelectors",
    why="moto skips the type: no audit trail existed locally",
    upstream=True,
    install=install,
)
