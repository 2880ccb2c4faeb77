"""The gate's documents: policy results, the evidence of a decision, and the receipt of an applied decision.

Evidence is written once (never overwritten) to the Object Lock evidence bucket; each document carries the
SHA-256 of its own canonical content so a reader can tell it was not altered.
"""

from __future__ import annotations

import hashlib
import json
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

SCHEMA_VERSION = 1


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Severity(StrEnum):
    BLOCKING = "blocking"
    ADVISORY = "advisory"


class ApprovalStatus(StrEnum):
    APPROVED = "Approved"
    REJECTED = "Rejected"
    PENDING = "PendingManualApproval"


class DecisionKind(StrEnum):
    GATE = "gate-decision"  # a new version, or an approval requested: the gate evaluated and decided
    CONSOLE_APPROVAL = "console-approval-review"  # approved outside the gate: re-evaluated, kept or reverted
    OBSERVED_REJECTION = "observed-rejection"  # rejected outside the gate: recorded with who did it
    REFUSED = "refused"  # unknown or foreign model package: nothing to evaluate, nothing changed


class PolicyResult(_Model):
    id: str
    description: str
    severity: Severity
    passed: bool
    reason: str
    details: dict[str, Any] = Field(default_factory=dict)


class ObjectRead(_Model):
    """One input the gate read, with the SHA-256 of exactly the bytes it read."""

    uri: str
    version_id: str | None = None
    sha256: str
    size: int
    purpose: str


class Actor(_Model):
    kind: Literal["policy-gate", "human", "unknown"]
    identity: str | None = Field(description="IAM ARN, SageMaker user profile, or None when not known")
    source: str = Field(description="where the identity comes from: lambda, cli, event-detail, cloudtrail")
    details: dict[str, Any] = Field(default_factory=dict)


class TriggerInfo(_Model):
    source: Literal["event", "cli", "local"]
    event_id: str | None = None
    detail_type: str | None = None
    event_time: str | None = None
    approval_status_in_event: str | None = None


class PackageState(_Model):
    approval_status: str | None
    package_status: str | None
    last_modified: str | None = Field(description="LastModifiedTime (or CreationTime) in UTC ISO 8601")
    approval_description: str | None = None


class EvidenceDocument(_Model):
    schema_version: Literal[1] = 1
    kind: DecisionKind
    decision_id: str
    environment: str
    model_package_arn: str
    model_package_group: str | None
    model_package_version: int | None
    decided_at: str
    actor: Actor
    trigger: TriggerInfo
    state_before: PackageState | None
    decision: ApprovalStatus
    applied: bool = Field(description="whether the decision changes the package's approval status")
    reason: str
    failed_blocking: list[str] = Field(default_factory=list)
    failed_advisory: list[str] = Field(default_factory=list)
    policies: list[PolicyResult] = Field(default_factory=list)
    policy_set_sha256: str | None = None
    approver: Actor | None = Field(default=None, description="who approved or rejected outside the gate")
    inputs: list[ObjectRead] = Field(default_factory=list)
    inputs_sha256: str
    lineage_record_uri: str | None = None
    execution_id: str | None = None
    dry_run: bool = False
    document_sha256: str = ""

    def sealed(self) -> EvidenceDocument:
        """A copy whose `document_sha256` is the SHA-256 of its canonical content without that field."""
        return self.model_copy(update={"document_sha256": content_sha256(self)})

    def seal_valid(self) -> bool:
        return bool(self.document_sha256) and self.document_sha256 == content_sha256(self)


class Receipt(_Model):
    """Written after the gate changed a package's status: the state it left the package in."""

    schema_version: Literal[1] = 1
    kind: Literal["applied-decision"] = "applied-decision"
    decision_id: str
    model_package_arn: str
    applied_at: str
    state_after: PackageState


def canonical_json(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str).encode()


def canonical_sha256(value: Any) -> str:
    return hashlib.sha256(canonical_json(value)).hexdigest()


def content_sha256(document: EvidenceDocument) -> str:
    return canonical_sha256(document.model_dump(mode="json", exclude={"document_sha256"}))


def inputs_sha256(reads: list[ObjectRead]) -> str:
    return canonical_sha256(sorted((r.model_dump(mode="json") for r in reads), key=canonical_json))
