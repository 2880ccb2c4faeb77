"""The lineage record of one training-pipeline execution: trigger, inputs (versions and checksums), contract,
code, parameters, step results, validation, metrics, drift and the registered model package.

Written to the reports bucket at `lineage/executions/<execution id>.json` (schema_version 1); the policy gate
and `keel lineage` read it back. Every run writes one, failed runs included.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from keel.paths import PROJECT_ROOT

SCHEMA_VERSION: Literal[1] = 1
LINEAGE_PREFIX = "lineage/executions/"
# The event the lineage recorder puts on the default bus once a record is written: the policy gate decides on
# the run's model package then (a long run outlives the retries of the package's own state-change event).
RECORD_EVENT_SOURCE = "keel.lineage"
RECORD_EVENT_DETAIL_TYPE = "Keel Lineage Record Written"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class InputObject(_Model):
    uri: str
    version_id: str | None
    etag: str
    size: int
    sha256: str


class Trigger(_Model):
    reason: str
    source: str = Field(description="cli, s3-event, kinesis, alarm, schedule, feedback")
    event_id: str | None = None
    details: dict[str, Any] = Field(default_factory=dict)


class CodeVersion(_Model):
    git_commit: str | None
    git_dirty: bool | None
    source_sha256: str = Field(description="SHA-256 over keel/, pipeline_steps/ and contracts/ sources")
    image_uri: str


class ContractRef(_Model):
    name: str
    version: str
    sha256: str


class StepRecord(_Model):
    name: str
    type: str
    status: str
    started: str
    ended: str
    detail: str = ""
    job_name: str | None = None
    outputs: dict[str, str] = Field(default_factory=dict)


class LineageRecord(_Model):
    schema_version: Literal[1] = SCHEMA_VERSION
    kind: Literal["training-run"] = "training-run"
    environment: str
    pipeline_name: str
    pipeline_arn: str
    definition_sha256: str
    execution_arn: str
    execution_id: str
    status: str
    failure_reason: str | None
    started: str
    ended: str
    trigger: Trigger
    parameters: dict[str, Any]
    contract: ContractRef
    code: CodeVersion
    inputs: list[InputObject]
    steps: list[StepRecord]
    validation: dict[str, Any] | None = Field(description="combined validation summary (summary.json)")
    metrics: dict[str, Any] | None = Field(description="evaluation.json (model-quality format)")
    drift: dict[str, Any] | None = Field(description="drift_report.json summary")
    reports: dict[str, str] = Field(default_factory=dict, description="report name -> S3 URI")
    model_package_arn: str | None


def record_key(execution_id: str) -> str:
    return f"{LINEAGE_PREFIX}{execution_id}.json"


def source_sha256(root: Path = PROJECT_ROOT) -> str:
    digest = hashlib.sha256()
    for folder in ("keel", "pipeline_steps", "contracts"):
        for path in sorted((root / folder).rglob("*")):
            if (
                path.is_file()
                and path.suffix in (".py", ".yaml", ".txt", ".sh", ".in")
                and "__pycache__" not in path.parts
            ):
                digest.update(path.relative_to(root).as_posix().encode())
                digest.update(path.read_bytes())
    return digest.hexdigest()


def git_version(root: Path = PROJECT_ROOT) -> tuple[str | None, bool | None]:
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, check=True, timeout=10
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", "keel", "pipeline_steps", "contracts"],
            cwd=root,
            capture_output=True,
            text=True,
            check=True,
            timeout=10,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None, None
    return commit or None, bool(dirty)


def contract_sha256(name: str, root: Path = PROJECT_ROOT) -> str:
    return hashlib.sha256((root / "contracts" / f"{name}.yaml").read_bytes()).hexdigest()


def to_json(record: LineageRecord) -> str:
    return json.dumps(record.model_dump(mode="json"), indent=2, sort_keys=False) + "\n"
