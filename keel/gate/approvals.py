"""Who approved (or rejected) a model package outside the gate.

The event's detail names the identity SageMaker saw (`LastModifiedBy`: IAM identity or Studio user profile).
CloudTrail `LookupEvents` confirms it with the API call itself. The lookup answers one of four things, never
folded into one another: found (the call and who made it), not-found (no such call in the window: CloudTrail
delivers events minutes late), denied (the gate may not read CloudTrail: the reason is kept), failed (the
request was rejected). Throttling (LookupEvents allows 2 requests per second per account) and 5xx are retried
by the client's retry mode; if they outlast it the lookup raises `RetryLaterError` (no decision is made).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal, Protocol

from botocore.exceptions import BotoCoreError, ClientError

from keel.aws import describe_error, error_kind, retry_later
from keel.gate.model import Actor

LOOKBACK = timedelta(hours=2)
DELIVERY_SLACK = timedelta(minutes=5)
PAGE_SIZE = 50  # LookupEvents MaxResults: 1..50

LookupStatus = Literal["found", "not-found", "denied", "failed", "no-source"]


@dataclass(frozen=True)
class ApprovalLookupResult:
    status: LookupStatus
    actor: Actor | None = None
    reason: str = ""

    @property
    def note(self) -> str:
        """What the evidence records, e.g. `denied: AccessDeniedException: ...`."""
        return f"{self.status}: {self.reason}" if self.reason else self.status


class ApprovalLookup(Protocol):
    def find(self, model_package_arn: str, status: str, *, until: datetime) -> ApprovalLookupResult:
        """The identity that set `status` on the package (latest call before `until`), or why not known."""
        ...


@dataclass
class NoApprovalLookup:
    """No audit source (local runs): the event detail is all there is."""

    def find(self, model_package_arn: str, status: str, *, until: datetime) -> ApprovalLookupResult:  # noqa: ARG002
        return ApprovalLookupResult("no-source", reason="no audit trail is consulted in this environment")


@dataclass
class StaticApprovalLookup:
    """A fixed answer (tests)."""

    actor: Actor | None

    def find(self, model_package_arn: str, status: str, *, until: datetime) -> ApprovalLookupResult:  # noqa: ARG002
        if self.actor is None:
            return ApprovalLookupResult("not-found", reason="no matching call")
        return ApprovalLookupResult("found", self.actor)


@dataclass
class CloudTrailApprovalLookup:
    """CloudTrail LookupEvents; `cloudtrail` is a boto3 client with a retry mode (`keel.aws.RETRYING`)."""

    cloudtrail: Any
    lookback: timedelta = LOOKBACK

    def find(self, model_package_arn: str, status: str, *, until: datetime) -> ApprovalLookupResult:
        start, end = until - self.lookback, until + DELIVERY_SLACK
        unreadable = 0
        try:
            pages = self.cloudtrail.get_paginator("lookup_events").paginate(
                LookupAttributes=[{"AttributeKey": "EventName", "AttributeValue": "UpdateModelPackage"}],
                StartTime=start,
                EndTime=end,
                PaginationConfig={"PageSize": PAGE_SIZE},
            )
            for page in pages:
                for event in page.get("Events", []):  # newest first
                    record = _record_of(event)
                    if record is None:
                        unreadable += 1
                        continue
                    actor = _actor_of(event, record, model_package_arn, status)
                    if actor:
                        return ApprovalLookupResult("found", actor)
        except (ClientError, BotoCoreError) as error:
            kind = error_kind(error)
            if kind == "transient":
                raise retry_later(error, "CloudTrail LookupEvents") from error
            return ApprovalLookupResult(
                "denied" if kind == "denied" else "failed", reason=f"LookupEvents: {describe_error(error)}"
            )
        skipped = f"; {unreadable} event(s) without a readable CloudTrailEvent" if unreadable else ""
        return ApprovalLookupResult(
            "not-found",
            reason=f"no UpdateModelPackage call setting {status} on {model_package_arn} between "
            f"{start.isoformat()} and {end.isoformat()}{skipped}",
        )


def _record_of(event: dict[str, Any]) -> dict[str, Any] | None:
    """The CloudTrail record: a JSON string inside each LookupEvents event."""
    try:
        record = json.loads(event.get("CloudTrailEvent") or "")
    except ValueError:
        return None
    return record if isinstance(record, dict) else None


def _actor_of(
    event: dict[str, Any], record: dict[str, Any], model_package_arn: str, status: str
) -> Actor | None:
    parameters = record.get("requestParameters") or {}
    if (
        record.get("errorCode")  # CloudTrail records failed calls too: they changed nothing
        or parameters.get("modelPackageArn") != model_package_arn
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
