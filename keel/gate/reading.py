"""Reads the gate makes, each recorded with the SHA-256 of the bytes read, and precise errors when a read
fails (missing object, deleted version, delete marker, access denied). A transient failure (throttled, 5xx,
timeout) that outlasts the SDK's retries is no fact about the object: it raises `RetryLaterError`."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from keel.aws import ErrorKind, describe_error, error_code, error_kind, retry_later
from keel.gate.model import ObjectRead, canonical_json
from keel.s3uri import split_uri

CHUNK_BYTES = 8 * 1024 * 1024


class ReadError(RuntimeError):
    """A read the gate needed failed; the message says which object and why, `kind` what it means."""

    def __init__(self, message: str, kind: ErrorKind) -> None:
        super().__init__(message)
        self.kind = kind


def describe_uri(uri: str, version_id: str | None) -> str:
    return f"{uri} (version {version_id})" if version_id else uri


def s3_error(error: ClientError | BotoCoreError, uri: str, version_id: str | None) -> Exception:
    """The ReadError that says what went wrong, or RetryLaterError for a transient failure."""
    where = describe_uri(uri, version_id)
    kind = error_kind(error)
    if kind == "transient":
        return retry_later(error, f"reading {where}")
    code = error_code(error) if isinstance(error, ClientError) else ""
    if kind == "not-found":
        what = "version" if version_id else "object"
        return ReadError(f"{where}: no such {what} (deleted or never written)", kind)
    if code in ("405", "MethodNotAllowed"):
        return ReadError(f"{where}: the version is a delete marker", "not-found")
    if kind == "denied":
        return ReadError(f"{where}: access denied ({describe_error(error)})", kind)
    return ReadError(f"{where}: {describe_error(error)}", kind)


@dataclass
class RecordingReader:
    """S3 (and service) reads, each appended to `reads` with its SHA-256."""

    s3: Any
    reads: list[ObjectRead] = field(default_factory=list)

    def get_bytes(self, uri: str, *, purpose: str, version_id: str | None = None) -> bytes:
        bucket, key = split_uri(uri)
        extra = {"VersionId": version_id} if version_id else {}
        try:
            response = self.s3.get_object(Bucket=bucket, Key=key, **extra)
            body = response["Body"].read()
        except (ClientError, BotoCoreError) as error:
            raise s3_error(error, uri, version_id) from None
        self.reads.append(
            ObjectRead(
                uri=uri,
                version_id=response.get("VersionId") or version_id,
                sha256=hashlib.sha256(body).hexdigest(),
                size=len(body),
                purpose=purpose,
            )
        )
        return bytes(body)

    def get_json(self, uri: str, *, purpose: str, version_id: str | None = None) -> Any:
        body = self.get_bytes(uri, purpose=purpose, version_id=version_id)
        try:
            return json.loads(body)
        except ValueError as error:
            raise ReadError(f"{uri}: not valid JSON ({error})", "rejected") from None

    def hash_version(self, uri: str, version_id: str | None, *, purpose: str) -> tuple[str, int, str]:
        """(sha256, size, etag) of one object version, streamed in chunks."""
        bucket, key = split_uri(uri)
        extra = {"VersionId": version_id} if version_id else {}
        digest, size = hashlib.sha256(), 0
        try:
            response = self.s3.get_object(Bucket=bucket, Key=key, **extra)
            for chunk in iter(lambda: response["Body"].read(CHUNK_BYTES), b""):
                digest.update(chunk)
                size += len(chunk)
        except (ClientError, BotoCoreError) as error:
            raise s3_error(error, uri, version_id) from None
        sha = digest.hexdigest()
        self.reads.append(ObjectRead(uri=uri, version_id=version_id, sha256=sha, size=size, purpose=purpose))
        return sha, size, str(response.get("ETag", "")).strip('"')

    def head(self, uri: str, *, version_id: str | None = None) -> dict[str, Any]:
        bucket, key = split_uri(uri)
        extra = {"VersionId": version_id} if version_id else {}
        try:
            response: dict[str, Any] = self.s3.head_object(Bucket=bucket, Key=key, **extra)
        except (ClientError, BotoCoreError) as error:
            raise s3_error(error, uri, version_id) from None
        return response

    def record_document(self, name: str, document: Any, *, purpose: str) -> None:
        """A service response the decision depends on (e.g. DescribeModelPackage), hashed canonically."""
        body = canonical_json(document)
        self.reads.append(
            ObjectRead(uri=name, sha256=hashlib.sha256(body).hexdigest(), size=len(body), purpose=purpose)
        )
