"""The interfaces behind the missing moto APIs: Macie findings, CloudTrail approvals, SNS alerts."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from botocore.exceptions import ClientError

from keel.gate.approvals import CloudTrailApprovalLookup, actor_from_detail
from keel.gate.findings import (
    CompositeFindingsSource,
    Finding,
    FindingsUnavailableError,
    Macie2FindingsSource,
    ObjectVersion,
    StaticFindingsSource,
    UnavailableFindingsSource,
)

OBJ = ObjectVersion("keel-raw", "landing/a.csv", "v2")


class FakeMacie:
    def __init__(self, findings: list[dict[str, Any]]) -> None:
        self.findings, self.criteria = findings, []

    def list_findings(self, **kwargs: Any) -> dict[str, Any]:
        self.criteria.append(kwargs["findingCriteria"])
        return {"findingIds": [f["id"] for f in self.findings]}

    def get_findings(self, findingIds: list[str]) -> dict[str, Any]:  # noqa: N803
        return {"findings": [f for f in self.findings if f["id"] in findingIds]}


def macie_finding(finding_id: str, version: str | None, *, archived: bool = False) -> dict[str, Any]:
    s3_object = {"key": "landing/a.csv"} | ({"versionId": version} if version else {})
    return {
        "id": finding_id,
        "type": "SensitiveData:S3Object/Financial",
        "archived": archived,
        "severity": {"description": "High"},
        "resourcesAffected": {"s3Bucket": {"name": "keel-raw"}, "s3Object": s3_object},
    }


def test_macie_findings_match_the_object_version_and_skip_archived_ones() -> None:
    macie = FakeMacie(
        [
            macie_finding("f1", "v2"),
            macie_finding("f2", "v1"),
            macie_finding("f3", None),
            macie_finding("f4", "v2", archived=True),
        ]
    )
    found = Macie2FindingsSource(macie).open_findings([OBJ])
    assert sorted(f.id for f in found) == ["f1", "f3"]
    criterion = macie.criteria[0]["criterion"]
    assert criterion["resourcesAffected.s3Bucket.name"] == {"eq": ["keel-raw"]}
    assert criterion["archived"] == {"eq": ["false"]}


def test_an_unanswerable_source_fails_closed() -> None:
    class Missing:
        def list_findings(self, **_: Any) -> dict[str, Any]:
            raise ClientError({"Error": {"Code": "404", "Message": "Not Found"}}, "ListFindings")

    with pytest.raises(FindingsUnavailableError, match="ListFindings"):
        Macie2FindingsSource(Missing()).open_findings([OBJ])
    composite = CompositeFindingsSource([StaticFindingsSource(), UnavailableFindingsSource("no Macie here")])
    with pytest.raises(FindingsUnavailableError, match="no Macie here"):
        composite.open_findings([OBJ])
    finding = Finding("f9", "t", "Low", "keel-raw", "landing/a.csv", None, "static")
    assert CompositeFindingsSource([StaticFindingsSource([finding])] * 2).open_findings([OBJ]) == [finding]


class FakeTrail:
    def __init__(self, events: list[dict[str, Any]] | Exception) -> None:
        self.events = events

    def get_paginator(self, name: str) -> FakeTrail:
        assert name == "lookup_events"
        return self

    def paginate(self, **kwargs: Any) -> list[dict[str, Any]]:
        assert kwargs["LookupAttributes"] == [
            {"AttributeKey": "EventName", "AttributeValue": "UpdateModelPackage"}
        ]
        if isinstance(self.events, Exception):
            raise self.events
        return [{"Events": self.events}]


def trail_event(arn: str, status: str, who: str) -> dict[str, Any]:
    record = {
        "eventID": "ct-1",
        "eventTime": "2026-11-01T10:00:00Z",
        "sourceIPAddress": "10.0.0.1",
        "userIdentity": {"arn": who, "principalId": "AIDA"},
        "requestParameters": {"modelPackageArn": arn, "modelApprovalStatus": status},
    }
    return {"EventId": "ct-1", "Username": who.rsplit("/", 1)[-1], "CloudTrailEvent": json.dumps(record)}


def test_cloudtrail_names_who_approved() -> None:
    arn = "arn:aws:sagemaker:us-east-1:123456789012:model-package/g/1"
    lookup = CloudTrailApprovalLookup(
        FakeTrail(
            [
                trail_event("arn:other", "Approved", "arn:aws:iam::1:user/mallory"),
                trail_event(arn, "Rejected", "arn:aws:iam::1:user/bob"),
                trail_event(arn, "Approved", "arn:aws:iam::1:user/alice"),
            ]
        )
    )
    actor = lookup.find(arn, "Approved", until=datetime(2026, 11, 1, tzinfo=UTC))
    assert actor and actor.identity == "arn:aws:iam::1:user/alice" and actor.source == "cloudtrail"
    assert actor.details["source_ip"] == "10.0.0.1"


def test_cloudtrail_without_lookup_events_is_not_an_error() -> None:
    lookup = CloudTrailApprovalLookup(FakeTrail(NotImplementedError("lookup_events")))
    assert lookup.find("arn", "Approved", until=datetime.now(UTC)) is None


def test_the_event_detail_names_the_iam_identity_or_the_studio_user() -> None:
    iam = actor_from_detail(
        {"LastModifiedBy": {"IamIdentity": {"Arn": "arn:aws:sts::1:assumed-role/R/alice"}}}
    )
    studio = actor_from_detail({"LastModifiedBy": {"UserProfileName": "bob", "DomainId": "d-1"}})
    assert iam and iam.identity == "arn:aws:sts::1:assumed-role/R/alice"
    assert studio and studio.identity == "bob" and studio.details["domain_id"] == "d-1"
    assert actor_from_detail({}) is None
