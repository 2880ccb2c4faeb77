"""Macie quarantine: the flagged object leaves the training inputs, every version is kept, one alert."""

from __future__ import annotations

from typing import Any

from keel.gate.decide import gate_model_package
from keel.gate.events import macie_finding
from keel.gate.findings import QuarantineFindingsSource
from keel.gate.notify import RecordingNotifier
from keel.local.runner.s3io import list_objects
from keel.quarantine.quarantine import QuarantineDeps, handle_event, quarantine_key
from tests.unit.gate.world import World


def macie_event(
    bucket: str, key: str, version_id: str | None, *, finding_id: str = "f-123", event_id: str = "m-1"
) -> dict[str, Any]:
    return macie_finding(bucket, key, version_id, finding_id=finding_id, event_id=event_id)


def deps(world: World, notifier: RecordingNotifier | None = None) -> QuarantineDeps:
    return QuarantineDeps(world.settings, world.s3, notifier if notifier is not None else RecordingNotifier())


def raw_bucket(world: World) -> str:
    return world.settings.macie_buckets[0]


def test_a_flagged_object_is_copied_to_quarantine_and_hidden_without_deleting_anything(world: World) -> None:
    bucket, key = raw_bucket(world), "landing/wine_quality/ingest_date=2026-11-01/pii.csv"
    version = world.s3.put_object(Bucket=bucket, Key=key, Body=b"name,ssn\nann,123-45-6789\n")["VersionId"]
    notifier = RecordingNotifier()
    result = handle_event(deps(world, notifier), macie_event(bucket, key, version))
    assert result.action == "quarantined" and result.delete_marker_version_id
    copy = world.s3.get_object(Bucket=bucket, Key=quarantine_key(key))
    assert copy["Body"].read() == b"name,ssn\nann,123-45-6789\n"
    tags = {
        t["Key"]: t["Value"]
        for t in world.s3.get_object_tagging(Bucket=bucket, Key=quarantine_key(key))["TagSet"]
    }
    assert tags == {
        "keel:macie-finding-id": "f-123",
        "keel:macie-finding-type": "SensitiveData:S3Object/Personal",
        "keel:source-version-id": version,
    }
    # The training inputs (a listing of the landing prefix) no longer include it; the version is kept.
    assert list_objects(world.s3, f"s3://{bucket}/landing/") == []
    assert world.s3.head_object(Bucket=bucket, Key=key, VersionId=version)["ContentLength"] > 0
    versions = world.s3.list_object_versions(Bucket=bucket, Prefix=key)
    assert len(versions["Versions"]) == 1 and len(versions["DeleteMarkers"]) == 1
    [(subject, message)] = notifier.messages
    assert "quarantined" in subject and message["object"] == f"s3://{bucket}/{key}"


def test_the_quarantine_is_idempotent(world: World) -> None:
    bucket, key = raw_bucket(world), "landing/a.csv"
    version = world.s3.put_object(Bucket=bucket, Key=key, Body=b"a")["VersionId"]
    notifier = RecordingNotifier()
    first = handle_event(deps(world, notifier), macie_event(bucket, key, version))
    second = handle_event(deps(world, notifier), macie_event(bucket, key, version, event_id="m-2"))
    assert (first.action, second.action) == ("quarantined", "already-quarantined")
    assert len(notifier.messages) == 1
    assert len(world.s3.list_object_versions(Bucket=bucket, Prefix=quarantine_key(key))["Versions"]) == 1
    assert len(world.s3.list_object_versions(Bucket=bucket, Prefix=key)["DeleteMarkers"]) == 1


def test_a_newer_clean_version_stays_visible(world: World) -> None:
    bucket, key = raw_bucket(world), "landing/b.csv"
    flagged = world.s3.put_object(Bucket=bucket, Key=key, Body=b"pii")["VersionId"]
    world.s3.put_object(Bucket=bucket, Key=key, Body=b"clean")
    result = handle_event(deps(world), macie_event(bucket, key, flagged))
    assert result.action == "quarantined" and result.delete_marker_version_id is None
    assert world.s3.get_object(Bucket=bucket, Key=key)["Body"].read() == b"clean"
    assert world.s3.get_object(Bucket=bucket, Key=quarantine_key(key))["Body"].read() == b"pii"


def test_findings_outside_keels_data_or_on_quarantine_copies_are_ignored(world: World) -> None:
    other = handle_event(deps(world), macie_event("someone-elses-bucket", "x.csv", "v1"))
    copy = handle_event(deps(world), macie_event(raw_bucket(world), "quarantine/macie/x.csv", "v1"))
    bucket_level = handle_event(
        deps(world),
        {
            **macie_event(raw_bucket(world), "x", None),
            "detail": {"id": "p-1", "resourcesAffected": {"s3Bucket": {"name": "b"}}},
        },
    )
    not_macie = handle_event(deps(world), {"source": "aws.s3", "detail-type": "Object Created"})
    assert [r.action for r in (other, copy, bucket_level, not_macie)] == ["ignored"] * 4
    assert world.evidence_keys() == []


def test_a_finding_on_a_vanished_object_is_recorded_as_missing(world: World) -> None:
    result = handle_event(deps(world), macie_event(raw_bucket(world), "landing/gone.csv", None))
    assert result.action == "missing"


def test_the_gate_rejects_a_model_trained_on_a_quarantined_object(world: World) -> None:
    run = world.train()
    bucket, key = run.input_uri[5:].split("/", 1)
    handle_event(deps(world), macie_event(bucket, key, run.input_version))
    findings = QuarantineFindingsSource(world.s3, world.settings.evidence_bucket)
    outcome = gate_model_package(world.deps(findings=findings), run.model_package_arn)
    assert outcome.evidence and outcome.evidence.failed_blocking == ["data.no-open-findings"]
    assert "f-123 (SensitiveData:S3Object/Personal)" in outcome.message
