"""Small S3 helpers of the monitoring code (URIs, listing, downloading a prefix, uploading a folder)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

from keel.s3uri import split_uri

__all__ = ["download_prefix", "list_keys", "read", "split_uri", "upload_tree"]


def list_keys(s3: Any, uri: str, *, since: datetime | None = None) -> Iterator[str]:
    """Keys below an S3 prefix in key order (folder markers skipped), modified at or after `since`."""
    bucket, prefix = split_uri(uri)
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for item in page.get("Contents", []):
            if item["Key"].endswith("/"):
                continue
            if since is not None and item["LastModified"] < since:
                continue
            yield item["Key"]


def read(s3: Any, bucket: str, key: str) -> bytes:
    return bytes(s3.get_object(Bucket=bucket, Key=key)["Body"].read())


def download_prefix(s3: Any, uri: str, target: Path) -> list[Path]:
    """Every object below the prefix into `target`, keeping paths relative to the prefix."""
    bucket, prefix = split_uri(uri)
    prefix = prefix.rstrip("/") + "/" if prefix else ""
    paths = []
    for key in list_keys(s3, f"s3://{bucket}/{prefix}"):
        path = target / key[len(prefix) :]
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(read(s3, bucket, key))
        paths.append(path)
    return paths


def upload_tree(s3: Any, source: Path, uri: str, *, kms_key_id: str | None) -> list[str]:
    bucket, prefix = split_uri(uri)
    prefix = prefix.rstrip("/")
    extra = {"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": kms_key_id} if kms_key_id else {}
    uploaded = []
    for path in sorted(p for p in source.rglob("*") if p.is_file()):
        key = f"{prefix}/{path.relative_to(source).as_posix()}".lstrip("/")
        s3.put_object(Bucket=bucket, Key=key, Body=path.read_bytes(), **extra)
        uploaded.append(f"s3://{bucket}/{key}")
    return uploaded
