"""The reverse question: which model versions were trained on this object (or under this prefix)?

Reads every execution's lineage record (`lineage/executions/*.json`, in parallel) and matches its inputs.
"""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from keel.gate.settings import GovernanceSettings
from keel.lineage.record import LINEAGE_PREFIX
from keel.s3uri import split_uri

WORKERS = 16


@dataclass
class DatasetUse:
    execution_id: str
    execution_status: str | None
    model_package_arn: str | None
    approval_status: str | None
    matched_inputs: list[dict[str, Any]]
    record_uri: str
    started: str | None = None


@dataclass
class DatasetLookup:
    dataset_uri: str
    version_id: str | None
    records_scanned: int
    uses: list[DatasetUse] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "dataset_uri": self.dataset_uri,
            "version_id": self.version_id,
            "records_scanned": self.records_scanned,
            "model_versions": [u.__dict__ for u in self.uses if u.model_package_arn],
            "executions_without_model": [u.__dict__ for u in self.uses if not u.model_package_arn],
            "warnings": self.warnings,
        }


def _matches(item: dict[str, Any], uri: str, version_id: str | None) -> bool:
    item_uri = str(item.get("uri", ""))
    same = item_uri.startswith(uri) if uri.endswith("/") else item_uri == uri
    return same and (version_id is None or item.get("version_id") == version_id)


def models_trained_on(
    settings: GovernanceSettings, *, s3: Any, sagemaker: Any, dataset_uri: str, version_id: str | None = None
) -> DatasetLookup:
    """`dataset_uri` is an object URI (exact match, optionally one version) or a prefix ending with '/'."""
    split_uri(dataset_uri)
    bucket = settings.reports_bucket
    keys = []
    paginator = s3.get_paginator("list_objects_v2")
    for page in paginator.paginate(Bucket=bucket, Prefix=LINEAGE_PREFIX):
        keys += [item["Key"] for item in page.get("Contents", []) if item["Key"].endswith(".json")]
    lookup = DatasetLookup(dataset_uri, version_id, len(keys))

    def read(key: str) -> tuple[str, dict[str, Any] | None, str | None]:
        try:
            return key, json.loads(s3.get_object(Bucket=bucket, Key=key)["Body"].read()), None
        except (ClientError, BotoCoreError, ValueError) as error:
            return key, None, str(error)

    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        results = list(pool.map(read, keys))
    for key, record, error in results:
        if record is None:
            lookup.warnings.append(f"s3://{bucket}/{key}: unreadable ({error})")
            continue
        matched = [i for i in record.get("inputs") or [] if _matches(i, dataset_uri, version_id)]
        if not matched:
            continue
        arn = record.get("model_package_arn")
        lookup.uses.append(
            DatasetUse(
                execution_id=str(record.get("execution_id")),
                execution_status=record.get("status"),
                model_package_arn=arn,
                approval_status=_approval(sagemaker, arn, lookup.warnings) if arn else None,
                matched_inputs=matched,
                record_uri=f"s3://{bucket}/{key}",
                started=record.get("started"),
            )
        )
    lookup.uses.sort(
        key=lambda u: (u.model_package_arn is None, _version(u.model_package_arn), u.started or "")
    )
    return lookup


def _version(arn: str | None) -> int:
    tail = (arn or "").rsplit("/", 1)[-1]
    return int(tail) if tail.isdigit() else 0


def _approval(sagemaker: Any, arn: str, warnings: list[str]) -> str | None:
    try:
        return str(sagemaker.describe_model_package(ModelPackageName=arn).get("ModelApprovalStatus"))
    except (ClientError, BotoCoreError) as error:
        warnings.append(f"{arn}: {error}")
        return None
