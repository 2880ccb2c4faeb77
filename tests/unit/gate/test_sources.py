"""The real calls behind the missing moto APIs (Macie ListFindings/GetFindings, CloudTrail LookupEvents), on
botocore's Stubber against the service models: shapes, pagination, and each error's own meaning."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from keel.aws import RetryLaterError
from keel.gate.approvals import PAGE_SIZE, CloudTrailApprovalLookup, actor_from_detail
from keel.gate.findings import (
    CompositeFindingsSource,
    Finding,
    FindingsUnavailableError,
    Macie2FindingsSource,
    ObjectVersion,
    StaticFindingsSource,
    UnavailableFindingsSource,
)
from tests.unit.gate.faults import http_answers, json_answer, stubbed

OBJ = ObjectVersion("keel-raw", "landing/a.csv", "v2")
CRITERIA = {
    "criterion": {
        "resourcesAffected.s3Bucket.name": {"eq": ["keel-raw"]},
        "resourcesAffected.s3Object.key": {"eq": ["landing/a.csv"]},
        "archived": {"eq": ["false"]},
    }
}


def macie_finding(
    finding_id: str, version: str | None, *, key: str = "landing/a.csv", archived: bool = False
) -> dict[str, Any]:
    """A Finding as GetFindings returns it (the Stubber checks it against the macie2 output shape)."""
    s3_object: dict[str, Any] = {"bucketArn": "arn:aws:s3:::keel-raw", "key": key, "path": f"keel-raw/{key}"}
    if version:
        s3_object["versionId"] = version
    return {
        "id": finding_id,
        "type": "SensitiveData:S3Object/Financial",
        "category": "CLASSIFICATION",
        "archived": archived,
        "count": 1,
        "severity": {"description": "High", "score": 3},
        "resourcesAffected": {"s3Bucket": {"name": "keel-raw"}, "s3Object": s3_object},
    }


def test_macie_pages_through_list_findings_and_gets_at_most_50_ids_per_call() -> None:
    ids = [f"f{n:03}" for n in range(60)]
    matching = {"f000": "v2", "f001": "v1", "f002": None, "f059": "v2"}  # f001: another version
    details = [
        macie_finding(i, matching.get(i, "v9"), key="landing/a.csv" if i in matching else "landing/a.csv.bak")
        for i in ids
    ]
    with stubbed("macie2") as (macie, stub):
        stub.add_response(
            "list_findings",
            {"findingIds": ids[:50], "nextToken": "page-2"},
            {"findingCriteria": CRITERIA, "maxResults": 50},
        )
        stub.add_response(
            "list_findings",
            {"findingIds": ids[50:]},
            {"findingCriteria": CRITERIA, "maxResults": 50, "nextToken": "page-2"},
        )
        stub.add_response("get_findings", {"findings": details[:50]}, {"findingIds": ids[:50]})
        stub.add_response("get_findings", {"findings": details[50:]}, {"findingIds": ids[50:]})
        found = Macie2FindingsSource(macie).open_findings([OBJ])
    assert sorted(f.id for f in found) == ["f000", "f002", "f059"]
    assert {f.severity for f in found} == {"High"} and {f.source for f in found} == {"macie2"}


def test_macie_skips_archived_findings_it_is_given() -> None:
    with stubbed("macie2") as (macie, stub):
        stub.add_response(
            "list_findings", {"findingIds": ["f1"]}, {"findingCriteria": CRITERIA, "maxResults": 50}
        )
        stub.add_response(
            "get_findings", {"findings": [macie_finding("f1", "v2", archived=True)]}, {"findingIds": ["f1"]}
        )
        assert Macie2FindingsSource(macie).open_findings([OBJ]) == []


@pytest.mark.parametrize(
    ("operation", "code", "status", "expected"),
    [
        ("list_findings", "AccessDeniedException", 403, "Macie ListFindings denied: AccessDeniedException: "),
        ("get_findings", "AccessDeniedException", 403, "Macie GetFindings denied: AccessDeniedException: "),
        ("list_findings", "ValidationException", 400, "Macie ListFindings failed: ValidationException: "),
    ],
)
def test_macie_errors_fail_closed_with_the_reason(
    operation: str, code: str, status: int, expected: str
) -> None:
    with stubbed("macie2") as (macie, stub):
        if operation == "get_findings":
            stub.add_response(
                "list_findings", {"findingIds": ["f1"]}, {"findingCriteria": CRITERIA, "maxResults": 50}
            )
        stub.add_client_error(
            operation, service_error_code=code, service_message="the reason", http_status_code=status
        )
        with pytest.raises(FindingsUnavailableError) as raised:
            Macie2FindingsSource(macie).open_findings([OBJ])
    assert str(raised.value) == expected + "the reason"


def test_macie_throttling_that_outlasts_the_retries_is_retry_later_not_a_finding() -> None:
    with stubbed("macie2") as (macie, stub):
        stub.add_client_error("list_findings", service_error_code="ThrottlingException", http_status_code=429)
        with pytest.raises(RetryLaterError, match="Macie ListFindings failed transiently"):
            CompositeFindingsSource([Macie2FindingsSource(macie)]).open_findings([OBJ])


def test_macie_throttling_is_retried_by_the_client() -> None:
    with stubbed("macie2") as (macie, stub):
        stub.deactivate()  # the HTTP layer answers instead, below the retry handler
        throttled = json_answer(429, {"message": "Rate exceeded"}, error_type="ThrottlingException")
        unavailable = json_answer(503, {"message": "try again"}, error_type="ServiceUnavailableException")
        listed = json_answer(200, {"findingIds": ["f1"]})
        got = json_answer(200, {"findings": [macie_finding("f1", "v2")]})
        answers = {"ListFindings": [throttled, unavailable, listed], "GetFindings": [got]}
        with http_answers(macie, answers) as delays:
            found = Macie2FindingsSource(macie).open_findings([OBJ])
    assert [f.id for f in found] == ["f1"] and len(delays) == 2


def test_other_sources_fail_closed_or_combine() -> None:
    composite = CompositeFindingsSource([StaticFindingsSource(), UnavailableFindingsSource("no Macie here")])
    with pytest.raises(FindingsUnavailableError, match="no Macie here"):
        composite.open_findings([OBJ])
    finding = Finding("f9", "t", "Low", "keel-raw", "landing/a.csv", None, "static")
    assert CompositeFindingsSource([StaticFindingsSource([finding])] * 2).open_findings([OBJ]) == [finding]


ARN = "arn:aws:sagemaker:us-east-1:123456789012:model-package/g/1"
UNTIL = datetime(2026, 11, 1, 12, tzinfo=UTC)
LOOKUP = {
    "LookupAttributes": [{"AttributeKey": "EventName", "AttributeValue": "UpdateModelPackage"}],
    "StartTime": UNTIL - timedelta(hours=2),
    "EndTime": UNTIL + timedelta(minutes=5),
    "MaxResults": PAGE_SIZE,
}


def trail_event(arn: str, status: str, who: str, *, error_code: str | None = None) -> dict[str, Any]:
    """A LookupEvents event: the CloudTrail record is a JSON string inside it."""
    record: dict[str, Any] = {
        "eventVersion": "1.09",
        "eventID": f"ct-{who.rsplit('/', 1)[-1]}",
        "eventTime": "2026-11-01T11:00:00Z",
        "eventSource": "sagemaker.amazonaws.com",
        "eventName": "UpdateModelPackage",
        "sourceIPAddress": "10.0.0.1",
        "userAgent": "console.amazonaws.com",
        "userIdentity": {"type": "IAMUser", "arn": who, "principalId": "AIDA"},
        "requestParameters": {"modelPackageArn": arn, "modelApprovalStatus": status},
    }
    if error_code:
        record["errorCode"] = error_code
    return {
        "EventId": record["eventID"],
        "EventName": "UpdateModelPackage",
        "ReadOnly": "false",
        "EventTime": datetime(2026, 11, 1, 11, tzinfo=UTC),
        "EventSource": "sagemaker.amazonaws.com",
        "Username": who.rsplit("/", 1)[-1],
        "Resources": [],
        "CloudTrailEvent": json.dumps(record),
    }


def test_cloudtrail_pages_until_it_finds_who_approved() -> None:
    with stubbed("cloudtrail") as (trail, stub):
        stub.add_response(
            "lookup_events",
            {
                "Events": [
                    trail_event("arn:other", "Approved", "arn:aws:iam::1:user/mallory"),
                    trail_event(ARN, "Approved", "arn:aws:iam::1:user/eve", error_code="AccessDenied"),
                    trail_event(ARN, "Rejected", "arn:aws:iam::1:user/bob"),
                ],
                "NextToken": "t-2",
            },
            LOOKUP,
        )
        stub.add_response(
            "lookup_events",
            {"Events": [trail_event(ARN, "Approved", "arn:aws:iam::1:user/alice")]},
            LOOKUP | {"NextToken": "t-2"},
        )
        result = CloudTrailApprovalLookup(trail).find(ARN, "Approved", until=UNTIL)
    assert result.status == "found" and result.actor
    assert result.actor.identity == "arn:aws:iam::1:user/alice" and result.actor.source == "cloudtrail"
    assert result.actor.details["source_ip"] == "10.0.0.1"


def test_cloudtrail_without_a_matching_call_says_not_found_and_what_it_skipped() -> None:
    unreadable = trail_event(ARN, "Approved", "arn:aws:iam::1:user/x") | {"CloudTrailEvent": "{not json"}
    with stubbed("cloudtrail") as (trail, stub):
        stub.add_response("lookup_events", {"Events": [unreadable]}, LOOKUP)
        result = CloudTrailApprovalLookup(trail).find(ARN, "Approved", until=UNTIL)
    assert result.status == "not-found" and result.actor is None
    assert (
        "no UpdateModelPackage call setting Approved" in result.note and "1 event(s) without" in result.note
    )


@pytest.mark.parametrize(
    ("code", "status", "expected"),
    [
        ("AccessDeniedException", 400, "denied: LookupEvents: AccessDeniedException: not allowed"),
        ("InvalidTimeRangeException", 400, "failed: LookupEvents: InvalidTimeRangeException: not allowed"),
    ],
)
def test_cloudtrail_errors_keep_their_meaning(code: str, status: int, expected: str) -> None:
    with stubbed("cloudtrail") as (trail, stub):
        stub.add_client_error(
            "lookup_events", service_error_code=code, service_message="not allowed", http_status_code=status
        )
        result = CloudTrailApprovalLookup(trail).find(ARN, "Approved", until=UNTIL)
    assert result.actor is None and result.note == expected


def test_cloudtrail_throttling_that_outlasts_the_retries_is_retry_later() -> None:
    with stubbed("cloudtrail") as (trail, stub):
        stub.add_client_error("lookup_events", service_error_code="ThrottlingException", http_status_code=400)
        with pytest.raises(RetryLaterError, match="CloudTrail LookupEvents failed transiently"):
            CloudTrailApprovalLookup(trail).find(ARN, "Approved", until=UNTIL)


def test_cloudtrail_throttling_is_retried_by_the_client() -> None:
    with stubbed("cloudtrail") as (trail, stub):
        stub.deactivate()
        throttled = json_answer(400, {"__type": "ThrottlingException", "message": "Rate exceeded"})
        event = trail_event(ARN, "Approved", "arn:aws:iam::1:user/alice") | {"EventTime": 1793530800}
        answers = {"LookupEvents": [throttled, json_answer(200, {"Events": [event]})]}
        with http_answers(trail, answers) as delays:
            result = CloudTrailApprovalLookup(trail).find(ARN, "Approved", until=UNTIL)
    assert result.status == "found" and len(delays) == 1


def test_the_event_detail_names_the_iam_identity_or_the_studio_user() -> None:
    iam = actor_from_detail(
        {"LastModifiedBy": {"IamIdentity": {"Arn": "arn:aws:sts::1:assumed-role/R/alice"}}}
    )
    studio = actor_from_detail({"LastModifiedBy": {"UserProfileName": "bob", "DomainId": "d-1"}})
    assert iam and iam.identity == "arn:aws:sts::1:assumed-role/R/alice"
    assert studio and studio.identity == "bob" and studio.details["domain_id"] == "d-1"
    assert actor_from_detail({}) is None
