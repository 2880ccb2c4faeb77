"""Open sensitive-data findings on training objects, behind one small interface.

`Macie2FindingsSource` asks Amazon Macie (ListFindings + GetFindings). moto does not implement
ListFindings, so the local runner and tests pass another source: `QuarantineFindingsSource` (the findings
Keel's Macie quarantine recorded in the evidence bucket — also useful on AWS, as a second signal) or
`StaticFindingsSource` (a fixed list). A source that cannot answer raises `FindingsUnavailableError` with
the reason (denied, request rejected), and the gate fails closed; a transient failure that outlasts the
client's retries raises `RetryLaterError` (no decision is made on it).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from botocore.exceptions import BotoCoreError, ClientError

from keel.aws import describe_error, error_kind, retry_later
from keel.naming import EVIDENCE_PREFIX

QUARANTINE_EVIDENCE_PREFIX = f"{EVIDENCE_PREFIX}quarantine/"
# GetFindings takes at most 50 finding ids; the object keys of one ListFindings `eq` condition are bounded
# the same way so that a request stays small.
_MACIE_BATCH = 50
_MACIE_PAGE = 50


class FindingsUnavailableError(RuntimeError):
    """The source could not be asked; the gate treats this as a failed policy, never as 'no findings'."""


@dataclass(frozen=True)
class ObjectVersion:
    bucket: str
    key: str
    version_id: str | None

    @property
    def uri(self) -> str:
        return f"s3://{self.bucket}/{self.key}"


@dataclass(frozen=True)
class Finding:
    id: str
    type: str
    severity: str
    bucket: str
    key: str
    version_id: str | None
    source: str

    def matches(self, obj: ObjectVersion) -> bool:
        if (self.bucket, self.key) != (obj.bucket, obj.key):
            return False
        # A finding without a version applies to the key; otherwise only to that version.
        return self.version_id is None or obj.version_id is None or self.version_id == obj.version_id


class FindingsSource(Protocol):
    name: str

    def open_findings(self, objects: Sequence[ObjectVersion]) -> list[Finding]:
        """Findings that are not archived on any of these object versions."""
        ...


@dataclass
class StaticFindingsSource:
    """A fixed list of findings (tests, the local runner)."""

    findings: list[Finding] = field(default_factory=list)
    name: str = "static"

    def open_findings(self, objects: Sequence[ObjectVersion]) -> list[Finding]:
        return [f for f in self.findings if any(f.matches(o) for o in objects)]


@dataclass
class UnavailableFindingsSource:
    """Always fails: the honest source where none is configured."""

    reason: str
    name: str = "unavailable"

    def open_findings(self, objects: Sequence[ObjectVersion]) -> list[Finding]:  # noqa: ARG002
        raise FindingsUnavailableError(self.reason)


@dataclass
class CompositeFindingsSource:
    """Every source is asked; any failure fails the whole answer (fail closed)."""

    sources: Sequence[FindingsSource]
    name: str = "composite"

    def open_findings(self, objects: Sequence[ObjectVersion]) -> list[Finding]:
        found: dict[tuple[str, str], Finding] = {}
        for source in self.sources:
            for finding in source.open_findings(objects):
                found.setdefault((finding.source, finding.id), finding)
        return list(found.values())


@dataclass
class QuarantineFindingsSource:
    """Findings Keel's Macie quarantine recorded (`evidence/quarantine/<bucket>/<key>/<finding id>.json`)."""

    s3: Any
    evidence_bucket: str
    name: str = "keel-quarantine"

    def open_findings(self, objects: Sequence[ObjectVersion]) -> list[Finding]:
        found: list[Finding] = []
        try:
            for obj in objects:
                prefix = quarantine_record_prefix(obj.bucket, obj.key)
                paginator = self.s3.get_paginator("list_objects_v2")
                for page in paginator.paginate(Bucket=self.evidence_bucket, Prefix=prefix):
                    for item in page.get("Contents", []):
                        body = self.s3.get_object(Bucket=self.evidence_bucket, Key=item["Key"])["Body"].read()
                        record = json.loads(body)
                        finding = Finding(
                            id=str(record["finding_id"]),
                            type=str(record.get("finding_type", "")),
                            severity=str(record.get("severity", "")),
                            bucket=obj.bucket,
                            key=obj.key,
                            version_id=record.get("source_version_id"),
                            source=self.name,
                        )
                        if finding.matches(obj) and not record.get("released"):
                            found.append(finding)
        except (ClientError, BotoCoreError) as error:
            if error_kind(error) == "transient":
                raise retry_later(error, "reading the quarantine records") from error
            raise FindingsUnavailableError(
                f"quarantine records unreadable: {describe_error(error)}"
            ) from None
        except (ValueError, KeyError) as error:
            raise FindingsUnavailableError(f"quarantine records unreadable: {error!r}") from None
        return found


def quarantine_record_prefix(bucket: str, key: str) -> str:
    return f"{QUARANTINE_EVIDENCE_PREFIX}{bucket}/{key}/"


@dataclass
class Macie2FindingsSource:
    """Amazon Macie: findings on the objects' keys that are not archived. `macie` is a boto3 client with a
    retry mode (`keel.aws.RETRYING`): throttling and 5xx are retried there, never here."""

    macie: Any
    name: str = "macie2"

    def open_findings(self, objects: Sequence[ObjectVersion]) -> list[Finding]:
        by_bucket: dict[str, list[ObjectVersion]] = {}
        for obj in objects:
            by_bucket.setdefault(obj.bucket, []).append(obj)
        found: list[Finding] = []
        for bucket, items in by_bucket.items():
            for batch in _batches(sorted({o.key for o in items}), _MACIE_BATCH):
                for id_batch in _batches(self._list(bucket, batch), _MACIE_BATCH):
                    for raw in self._get(id_batch):
                        finding = _from_macie(raw, self.name)
                        if finding and any(finding.matches(o) for o in items):
                            found.append(finding)
        return found

    def _list(self, bucket: str, keys: list[str]) -> list[str]:
        # FindingCriteria.criterion maps a finding field to a CriterionAdditionalProperties; `eq` values are
        # strings joined with OR (archived is the string "false"). Macie's `eq` on the key may match more than
        # the exact key: `Finding.matches` filters the answer.
        criteria = {
            "criterion": {
                "resourcesAffected.s3Bucket.name": {"eq": [bucket]},
                "resourcesAffected.s3Object.key": {"eq": keys},
                "archived": {"eq": ["false"]},
            }
        }
        ids: list[str] = []
        try:
            pages = self.macie.get_paginator("list_findings").paginate(
                findingCriteria=criteria, PaginationConfig={"PageSize": _MACIE_PAGE}
            )
            for page in pages:
                ids.extend(page.get("findingIds", []))
        except (ClientError, BotoCoreError) as error:
            raise _unavailable(error, "ListFindings") from None
        return list(dict.fromkeys(ids))

    def _get(self, ids: list[str]) -> list[dict[str, Any]]:
        try:
            findings: list[dict[str, Any]] = self.macie.get_findings(findingIds=ids).get("findings", [])
        except (ClientError, BotoCoreError) as error:
            raise _unavailable(error, "GetFindings") from None
        return findings


def _unavailable(error: ClientError | BotoCoreError, operation: str) -> Exception:
    """FindingsUnavailableError naming what Macie answered; RetryLaterError for a transient failure."""
    kind = error_kind(error)
    if kind == "transient":
        return retry_later(error, f"Macie {operation}")
    what = "denied" if kind == "denied" else "failed"
    return FindingsUnavailableError(f"Macie {operation} {what}: {describe_error(error)}")


def _batches(items: list[str], size: int) -> Iterable[list[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _from_macie(raw: dict[str, Any], source: str) -> Finding | None:
    resources = raw.get("resourcesAffected") or {}
    s3_object = resources.get("s3Object") or {}
    bucket = (resources.get("s3Bucket") or {}).get("name")
    if raw.get("archived") or not bucket or not s3_object.get("key"):
        return None
    return Finding(
        id=str(raw.get("id")),
        type=str(raw.get("type", "")),
        severity=str((raw.get("severity") or {}).get("description", "")),
        bucket=str(bucket),
        key=str(s3_object["key"]),
        version_id=s3_object.get("versionId") or None,
        source=source,
    )
