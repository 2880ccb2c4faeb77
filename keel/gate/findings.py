"""Open sensitive-data findings on training objects, behind one small interface.

`Macie2FindingsSource` asks Amazon Macie (ListFindings + GetFindings). moto does not implement
ListFindings, so the local runner and tests pass another source: `QuarantineFindingsSource` (the findings
Keel's Macie quarantine recorded in the evidence bucket — also useful on AWS, as a second signal) or
`StaticFindingsSource` (a fixed list). A source that cannot answer raises `FindingsUnavailableError`, and the
gate fails closed.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from botocore.exceptions import BotoCoreError, ClientError

from keel.naming import EVIDENCE_PREFIX

QUARANTINE_EVIDENCE_PREFIX = f"{EVIDENCE_PREFIX}quarantine/"
_MACIE_BATCH = 50  # ListFindings criterion values and GetFindings ids per request


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
        except (ClientError, BotoCoreError, ValueError, KeyError) as error:
            raise FindingsUnavailableError(f"quarantine records unreadable: {error}") from None
        return found


def quarantine_record_prefix(bucket: str, key: str) -> str:
    return f"{QUARANTINE_EVIDENCE_PREFIX}{bucket}/{key}/"


@dataclass
class Macie2FindingsSource:
    """Amazon Macie: classification findings on the objects' keys that are not archived."""

    macie: Any
    name: str = "macie2"

    def open_findings(self, objects: Sequence[ObjectVersion]) -> list[Finding]:
        by_bucket: dict[str, list[ObjectVersion]] = {}
        for obj in objects:
            by_bucket.setdefault(obj.bucket, []).append(obj)
        found: list[Finding] = []
        try:
            for bucket, items in by_bucket.items():
                keys = sorted({o.key for o in items})
                for batch in _batches(keys, _MACIE_BATCH):
                    ids = self._list(bucket, batch)
                    for id_batch in _batches(ids, _MACIE_BATCH):
                        response = self.macie.get_findings(findingIds=id_batch)
                        for raw in response.get("findings", []):
                            finding = _from_macie(raw, self.name)
                            if finding and any(finding.matches(o) for o in items):
                                found.append(finding)
        except (ClientError, BotoCoreError, NotImplementedError) as error:
            raise FindingsUnavailableError(f"Macie ListFindings/GetFindings failed: {error}") from None
        return found

    def _list(self, bucket: str, keys: list[str]) -> list[str]:
        criteria = {
            "criterion": {
                "resourcesAffected.s3Bucket.name": {"eq": [bucket]},
                "resourcesAffected.s3Object.key": {"eq": keys},
                "archived": {"eq": ["false"]},
            }
        }
        ids: list[str] = []
        token: str | None = None
        while True:
            extra = {"nextToken": token} if token else {}
            response = self.macie.list_findings(findingCriteria=criteria, maxResults=50, **extra)
            ids.extend(response.get("findingIds", []))
            token = response.get("nextToken")
            if not token:
                return ids


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
