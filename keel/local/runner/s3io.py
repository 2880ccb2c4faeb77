"""S3 transfers of the local runner: what SageMaker does around a job (download inputs, upload outputs)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from keel.s3uri import split_uri

__all__ = ["S3Object", "download", "list_objects", "split_uri", "upload_file", "upload_tree"]


@dataclass(frozen=True)
class S3Object:
    bucket: str
    key: str
    version_id: str | None
    etag: str
    size: int

    @property
    def uri(self) -> str:
        return f"s3://{self.bucket}/{self.key}"


def list_objects(s3: Any, uri: str) -> list[S3Object]:
    """Objects under an S3 prefix (or the one object a full key names), sorted by key; folders skipped."""
    bucket, prefix = split_uri(uri)
    objects: list[S3Object] = []
    paginator = s3.get_paginator("list_objects_v2")
    for page in paginator.paginate(Bucket=bucket, Prefix=prefix):
        for item in page.get("Contents", []):
            key = item["Key"]
            if key.endswith("/"):
                continue
            # S3Prefix semantics: "a/b" matches "a/b.csv" and "a/b/c.csv", like SageMaker.
            head = s3.head_object(Bucket=bucket, Key=key)
            objects.append(
                S3Object(bucket, key, head.get("VersionId"), item["ETag"].strip('"'), item["Size"])
            )
    return sorted(objects, key=lambda o: o.key)


def download(s3: Any, objects: list[S3Object], prefix_uri: str, target: Path) -> list[dict[str, Any]]:
    """Download objects below `target`, keeping paths relative to the prefix; returns their provenance."""
    _, prefix = split_uri(prefix_uri)
    provenance = []
    target.mkdir(parents=True, exist_ok=True)
    for obj in objects:
        relative = _relative_key(obj.key, prefix)
        destination = target / relative
        destination.parent.mkdir(parents=True, exist_ok=True)
        extra = {"VersionId": obj.version_id} if obj.version_id else {}
        body = s3.get_object(Bucket=obj.bucket, Key=obj.key, **extra)["Body"].read()
        destination.write_bytes(body)
        provenance.append(
            {
                "uri": obj.uri,
                "version_id": obj.version_id,
                "etag": obj.etag,
                "size": obj.size,
                "sha256": hashlib.sha256(body).hexdigest(),
            }
        )
    return provenance


def _relative_key(key: str, prefix: str) -> str:
    """Where SageMaker puts an object of an S3Prefix input: its path relative to the prefix is retained."""
    relative = key[len(prefix) :].lstrip("/")
    return relative or key.rsplit("/", 1)[-1]


def upload_tree(s3: Any, source: Path, uri: str, *, kms_key_id: str | None) -> list[str]:
    """Upload every file below `source` to the S3 prefix, encrypted with the job's output key."""
    bucket, prefix = split_uri(uri)
    prefix = prefix.rstrip("/")
    uploaded = []
    extra: dict[str, str] = (
        {"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": kms_key_id} if kms_key_id else {}
    )
    for path in sorted(p for p in source.rglob("*") if p.is_file()):
        key = (
            f"{prefix}/{path.relative_to(source).as_posix()}"
            if prefix
            else path.relative_to(source).as_posix()
        )
        s3.put_object(Bucket=bucket, Key=key, Body=path.read_bytes(), **extra)
        uploaded.append(f"s3://{bucket}/{key}")
    return uploaded


def upload_file(s3: Any, source: Path, uri: str, *, kms_key_id: str | None) -> str:
    bucket, key = split_uri(uri)
    extra: dict[str, str] = (
        {"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": kms_key_id} if kms_key_id else {}
    )
    s3.put_object(Bucket=bucket, Key=key, Body=source.read_bytes(), **extra)
    return uri
