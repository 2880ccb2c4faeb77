"""The gate's evidence in the Object Lock bucket: decisions and receipts, written once, never overwritten.

Layout under `keel.naming.EVIDENCE_PREFIX`:
  model-packages/<group>/<version>/decisions/<decision id>.json   one per decision (EvidenceDocument)
  model-packages/<group>/<version>/applied/<status>-<stamp>.json  the state the gate left the package in
  model-packages/refused/<decision id>.json                       unknown or foreign references

Writes use `If-None-Match: *`: a second writer of the same decision (a duplicate event) loses and reads the
first one back, so duplicates produce one decision. The bucket's default Object Lock retention (governance)
applies to every object; a SHA-256 checksum travels with each write. A key that cannot be read for any
reason other than "no such key" (denied, transient) is never taken as absent: the error propagates
(transient ones as `RetryLaterError`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from keel.aws import error_kind, retry_later
from keel.gate.model import EvidenceDocument, Receipt
from keel.naming import EVIDENCE_PREFIX

MODEL_PACKAGES_PREFIX = f"{EVIDENCE_PREFIX}model-packages/"
_CONFLICT = {"PreconditionFailed", "ConditionalRequestConflict", "412", "409"}


def package_prefix(group: str, version: int) -> str:
    return f"{MODEL_PACKAGES_PREFIX}{group}/{version}/"


def decision_key(group: str | None, version: int | None, decision_id: str) -> str:
    if group is None or version is None:
        return f"{MODEL_PACKAGES_PREFIX}refused/{decision_id}.json"
    return f"{package_prefix(group, version)}decisions/{decision_id}.json"


def receipt_key(group: str, version: int, status: str, stamp: str) -> str:
    safe = stamp.replace(":", "").replace("+", "Z")
    return f"{package_prefix(group, version)}applied/{status}-{safe}.json"


def _raise_if_transient(error: ClientError, doing: str) -> None:
    """A transient failure (after the SDK's retries) is RetryLaterError; the caller re-raises the others."""
    if error_kind(error) == "transient":
        raise retry_later(error, doing) from error


@dataclass
class EvidenceStore:
    s3: Any
    bucket: str

    def uri(self, key: str) -> str:
        return f"s3://{self.bucket}/{key}"

    def put_new(self, key: str, document: dict[str, Any]) -> bool:
        """Write once; False if the key already exists (someone else decided first)."""
        body = json.dumps(document, indent=2, sort_keys=True).encode()
        try:
            self.s3.put_object(
                Bucket=self.bucket,
                Key=key,
                Body=body,
                ContentType="application/json",
                IfNoneMatch="*",
                ChecksumAlgorithm="SHA256",
            )
        except ClientError as error:
            if str(error.response.get("Error", {}).get("Code")) in _CONFLICT:
                return False
            _raise_if_transient(error, f"writing {self.uri(key)}")
            raise
        return True

    def get(self, key: str) -> dict[str, Any] | None:
        try:
            body = self.s3.get_object(Bucket=self.bucket, Key=key)["Body"].read()
        except ClientError as error:
            if str(error.response.get("Error", {}).get("Code")) in ("NoSuchKey", "404"):
                return None
            _raise_if_transient(error, f"reading {self.uri(key)}")
            raise
        document: dict[str, Any] = json.loads(body)
        return document

    def exists(self, key: str) -> bool:
        try:
            self.s3.head_object(Bucket=self.bucket, Key=key)
        except ClientError as error:
            if str(error.response.get("Error", {}).get("Code")) in ("NoSuchKey", "404", "NotFound"):
                return False
            _raise_if_transient(error, f"checking {self.uri(key)}")
            raise
        return True

    def put_decision(self, document: EvidenceDocument) -> tuple[bool, str]:
        key = decision_key(document.model_package_group, document.model_package_version, document.decision_id)
        return self.put_new(key, document.model_dump(mode="json")), key

    def get_decision(
        self, group: str | None, version: int | None, decision_id: str
    ) -> EvidenceDocument | None:
        document = self.get(decision_key(group, version, decision_id))
        return EvidenceDocument.model_validate(document) if document else None

    def put_receipt(self, group: str, version: int, receipt: Receipt) -> str:
        stamp = receipt.state_after.last_modified or receipt.applied_at
        status = receipt.state_after.approval_status or "Unknown"
        key = receipt_key(group, version, status, stamp)
        self.put_new(key, receipt.model_dump(mode="json"))
        return key

    def has_receipt(self, group: str, version: int, status: str, stamp: str | None) -> bool:
        return stamp is not None and self.exists(receipt_key(group, version, status, stamp))

    def decisions(self, group: str, version: int) -> list[tuple[str, EvidenceDocument]]:
        """Every decision on one package version (key, document), oldest first."""
        found = []
        paginator = self.s3.get_paginator("list_objects_v2")
        for page in paginator.paginate(
            Bucket=self.bucket, Prefix=f"{package_prefix(group, version)}decisions/"
        ):
            for item in page.get("Contents", []):
                document = self.get(item["Key"])
                if document:
                    found.append((item["Key"], EvidenceDocument.model_validate(document)))
        return sorted(found, key=lambda pair: pair[1].decided_at)
