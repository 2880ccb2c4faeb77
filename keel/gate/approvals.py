"""Who approved (or rejected) a model package outside the gate.

The event's detail names the identity SageMaker saw (`LastModifiedBy`: IAM identity or Studio user profile).
CloudTrail `LookupEvents` confirms it with the API call itself, but moto does not implement it and CloudTrail
delivers events minutes late: the lookup is behind `ApprovalLookup`, and "not found" is recorded as such.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from botocore.exceptions import BotoCoreError, ClientError

from keel.gate.model import Actor

LOOKBACK = timedelta(hours=2)


class ApprovalLookup(Protocol):
    def find(self, model_package_arn: str, status: str, *, until: datetime) -> Actor | None:
        """The identity that set `status` on the package (latest call before `until`), or None."""
        ...


@dataclass
class NoApprovalLookup:
    """No audit source (local runs): the event detail is all there is."""

    def find(self, model_package_arn: str, status: str, *, until: datetime) -> Actor | None:  # noqa: ARG002
        return None


@dataclass
class StaticApprovalLookup:
    """A fixed answer (tests, the local runner)."""

    actor: Actor | None

    def find(self, model_package_arn: str, status: str, *, until: datetime) -> Actor | None:  # noqa: ARG002
        return self.actor


@dataclass
class CloudTrailApprovalLookup:
    cloudtrail: Any
    lookback: timedelta = LOOKBACK

    def find(self, model_package_arn: str, status: str, *, until: datetime) -> Actor | None:
        try:
            paginator = self.cloudtrail.get_paginator("lookup_events")
            pages = paginator.paginate(
                LookupAttributes=[{"AttributeKey": "EventName", "AttributeValue": "UpdateModelPackage"}],
                StartTime=until - self.lookback,
                EndTime=until + timedelta(minutes=5),
            )
            for page in pages:
                for event in page.get("Events", []):  # newest first
                    actor = _actor_of(event, model_package_arn, status)
                    if actor:
                        return actor
        except (ClientError, BotoCoreError, NotImplementedError):
            return None
        return None


def _actor_of(event: dict[str, Any], model_package_arn: str, status: str) -> Actor | None:
    try:
        record = json.loads(event.get("CloudTrailEvent") or "{}")
    except ValueError:
        return None
    parameters = record.get("requestParameters") or {}
    if (
        parameters.get("modelPackageArn") != model_package_arn
        or parameters.get("modelApprovalStatus") != status
    ):
        return None
    identity = record.get("userIdentity") or {}
    return Actor(
        kind="human",
        identity=identity.get("arn") or event.get("Username"),
        source="cloudtrail",
        details={
            "event_id": record.get("eventID"),
            "event_time": record.get("eventTime"),
            "source_ip": record.get("sourceIPAddress"),
            "user_agent": record.get("userAgent"),
            "principal_id": identity.get("principalId"),
        },
    )


def actor_from_detail(detail: dict[str, Any] | None) -> Actor | None:
    """The `LastModifiedBy` of a model package state change (or DescribeModelPackage) as an Actor."""
    by = (detail or {}).get("LastModifiedBy") or {}
    iam = by.get("IamIdentity") or {}
    identity = iam.get("Arn") or by.get("UserProfileArn") or by.get("UserProfileName")
    if not identity:
        return None
    return Actor(
        kind="human",
        identity=identity,
        source="event-detail",
        details={
            k: v
            for k, v in {
                "user_profile": by.get("UserProfileName"),
                "domain_id": by.get("DomainId"),
                "principal_id": iam.get("PrincipalId"),
                "source_identity": iam.get("SourceIdentity"),
            }.items()
            if v
        },
    )
