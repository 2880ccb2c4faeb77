"""Quarantine an object Amazon Macie flagged, keeping every version.

For a "Macie Finding" on an object in the raw or feedback bucket:
1. copy the flagged version to `quarantine/macie/<original key>` in the same bucket, tagged with the finding;
2. put a delete marker on the original key if the flagged version is its current one, so listings (and so
   the training inputs) no longer include it — the version itself is kept, nothing is deleted;
3. alert the environment's alert topic;
4. record the quarantine in the evidence bucket (`evidence/quarantine/<bucket>/<key>/<finding id>.json`,
   written once). The record makes the handling idempotent, and the policy gate reads it as an open finding.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal
from urllib.parse import urlencode

from botocore.exceptions import ClientError
from pydantic import BaseModel, ConfigDict, Field

from keel.gate.evidence import EvidenceStore
from keel.gate.findings import quarantine_record_prefix
from keel.gate.notify import Notifier
from keel.gate.settings import GovernanceSettings
from keel.naming import QUARANTINE_PREFIX

MACIE_SOURCE = "aws.macie"
MACIE_DETAIL_TYPE = "Macie Finding"
MACIE_QUARANTINE_PREFIX = f"{QUARANTINE_PREFIX}macie/"
_TAG_VALUE = re.compile(r"[^\w .:/=+\-@]")
_MISSING = {"404", "NoSuchKey", "NoSuchVersion", "NotFound"}


def utc_now() -> datetime:
    return datetime.now(UTC)


class _Lenient(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)


class _S3Bucket(_Lenient):
    name: str


class _S3Object(_Lenient):
    key: str
    version_id: str | None = Field(default=None, alias="versionId")
    etag: str | None = Field(default=None, alias="eTag")


class _Resources(_Lenient):
    s3_bucket: _S3Bucket | None = Field(default=None, alias="s3Bucket")
    s3_object: _S3Object | None = Field(default=None, alias="s3Object")


class _Severity(_Lenient):
    description: str = ""
    score: float | None = None


class MacieFinding(_Lenient):
    """The fields of a Macie finding (EventBridge `detail`, or GetFindings) that the quarantine uses."""

    id: str = Field(min_length=1)
    type: str = ""
    category: str = ""
    title: str = ""
    severity: _Severity = _Severity()
    archived: bool = False
    resources_affected: _Resources = Field(default_factory=_Resources, alias="resourcesAffected")


@dataclass
class QuarantineDeps:
    settings: GovernanceSettings
    s3: Any
    notifier: Notifier | None = None
    clock: Callable[[], datetime] = utc_now

    @property
    def evidence(self) -> EvidenceStore:
        return EvidenceStore(self.s3, self.settings.evidence_bucket)


@dataclass
class QuarantineResult:
    action: Literal["quarantined", "already-quarantined", "ignored", "missing"]
    reason: str
    finding_id: str
    source_uri: str | None = None
    source_version_id: str | None = None
    quarantine_uri: str | None = None
    quarantine_version_id: str | None = None
    delete_marker_version_id: str | None = None
    record_uri: str | None = None
    alerted: bool = False
    details: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def quarantine_key(key: str) -> str:
    return f"{MACIE_QUARANTINE_PREFIX}{key}"


def record_key(bucket: str, key: str, finding_id: str) -> str:
    return f"{quarantine_record_prefix(bucket, key)}{_tag(finding_id)}.json"


def handle_event(deps: QuarantineDeps, event: dict[str, Any]) -> QuarantineResult:
    if event.get("source") != MACIE_SOURCE or event.get("detail-type") != MACIE_DETAIL_TYPE:
        return QuarantineResult("ignored", f"not a Macie finding: {event.get('detail-type')!r}", "")
    return quarantine_finding(deps, MacieFinding.model_validate(event.get("detail") or {}))


def quarantine_finding(deps: QuarantineDeps, finding: MacieFinding) -> QuarantineResult:
    resources = finding.resources_affected
    if resources.s3_bucket is None or resources.s3_object is None:
        return QuarantineResult("ignored", "bucket-level finding: no object to quarantine", finding.id)
    bucket, key = resources.s3_bucket.name, resources.s3_object.key
    result = QuarantineResult("ignored", "", finding.id, source_uri=f"s3://{bucket}/{key}")
    if bucket not in deps.settings.macie_buckets:
        result.reason = (
            f"{bucket} is not one of Keel's quarantined buckets ({', '.join(deps.settings.macie_buckets)})"
        )
        return result
    if key.startswith(QUARANTINE_PREFIX):
        result.reason = "the object is already under the quarantine prefix"
        return result
    if finding.archived:
        result.reason = "the finding is archived"
        return result
    store = deps.evidence
    record_at = record_key(bucket, key, finding.id)
    result.record_uri = store.uri(record_at)
    existing = store.get(record_at)
    if existing is not None:
        return QuarantineResult(**{**existing["result"], "action": "already-quarantined"})
    version_id = resources.s3_object.version_id or _current_version(deps.s3, bucket, key)
    result.source_version_id = version_id
    if version_id is None:
        result.action, result.reason = "missing", "the object no longer exists"
        return _finish(deps, finding, result, record_at)
    try:
        copied = deps.s3.copy_object(
            Bucket=bucket,
            Key=quarantine_key(key),
            CopySource={"Bucket": bucket, "Key": key, "VersionId": version_id},
            MetadataDirective="COPY",
            TaggingDirective="REPLACE",
            Tagging=urlencode(_tags(finding, version_id)),
        )
    except ClientError as error:
        if str(error.response.get("Error", {}).get("Code")) not in _MISSING:
            raise
        result.action, result.reason = "missing", f"version {version_id} no longer exists"
        return _finish(deps, finding, result, record_at)
    result.quarantine_uri = f"s3://{bucket}/{quarantine_key(key)}"
    result.quarantine_version_id = copied.get("VersionId")
    current = _current_version(deps.s3, bucket, key)
    if current == version_id:
        result.delete_marker_version_id = deps.s3.delete_object(Bucket=bucket, Key=key).get("VersionId")
        result.reason = (
            "copied to quarantine; a delete marker now hides the original key (its version is kept)"
        )
    elif current is None:
        result.reason = "copied to quarantine; the original key was already hidden by a delete marker"
    else:
        result.reason = (
            f"copied to quarantine; the key's current version is a newer one ({current}), left as is"
        )
    result.action = "quarantined"
    return _finish(deps, finding, result, record_at)


def _finish(
    deps: QuarantineDeps, finding: MacieFinding, result: QuarantineResult, record_at: str
) -> QuarantineResult:
    if deps.notifier is not None:
        deps.notifier.publish(
            f"Keel {deps.settings.env}: Macie finding {finding.type or finding.id} — object {result.action}",
            {
                "finding_id": finding.id,
                "finding_type": finding.type,
                "severity": finding.severity.description,
                "object": result.source_uri,
                "version_id": result.source_version_id,
                "action": result.action,
                "reason": result.reason,
                "quarantine_copy": result.quarantine_uri,
            },
        )
        result.alerted = True
    record = {
        "schema_version": 1,
        "kind": "macie-quarantine",
        "environment": deps.settings.env,
        "recorded_at": deps.clock().astimezone(UTC).isoformat(timespec="seconds"),
        "finding_id": finding.id,
        "finding_type": finding.type,
        "severity": finding.severity.description,
        "source_version_id": result.source_version_id,
        "released": False,
        "result": result.as_dict(),
    }
    if not deps.evidence.put_new(record_at, record):  # a concurrent duplicate recorded it first
        existing = deps.evidence.get(record_at) or {"result": result.as_dict()}
        return QuarantineResult(**{**existing["result"], "action": "already-quarantined"})
    return result


def _current_version(s3: Any, bucket: str, key: str) -> str | None:
    """The key's current version id; None when the key is missing or hidden by a delete marker."""
    try:
        return str(s3.head_object(Bucket=bucket, Key=key).get("VersionId") or "null")
    except ClientError as error:
        if str(error.response.get("Error", {}).get("Code")) in _MISSING | {"405", "MethodNotAllowed"}:
            return None
        raise


def _tag(value: str) -> str:
    return _TAG_VALUE.sub("_", value)[:256]


def _tags(finding: MacieFinding, version_id: str) -> dict[str, str]:
    return {
        "keel:macie-finding-id": _tag(finding.id),
        "keel:macie-finding-type": _tag(finding.type or "unknown"),
        "keel:source-version-id": _tag(version_id),
    }
