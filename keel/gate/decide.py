"""The policy gate: evaluate a model package version, decide, write the evidence, apply the decision.

Entry points: `handle_event` (an EventBridge "SageMaker Model Package State Change") and
`gate_model_package` (an ARN or version number, from the CLI or the local runner). The package's current
state decides what happens, the event is only the occasion:

- PendingManualApproval (new version, or an approval requested): evaluate; all blocking policies pass →
  Approved where the environment may auto-approve, else left PendingManualApproval for a human; any blocking
  failure → Rejected with the failed policies as the ApprovalDescription.
- Approved without a gate receipt for that exact state: approved outside the gate (console). Who did it is
  recorded (event detail, CloudTrail); the version is re-evaluated and set back to Rejected if it fails.
- Rejected without a gate receipt: rejected outside the gate; recorded with who did it.
- Not a version of Keel's group (unknown, foreign): an event is refused and the refusal recorded (it names
  something the rule should not have routed here); a direct caller (the CLI) gets `RefusedReferenceError`
  and nothing is written: a typo must not leave a permanent record under Object Lock.

Each decision's id is derived from (ARN, approval status, last-modified time), and its evidence is written
once before it is applied: a duplicate event finds the evidence and only finishes applying it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from botocore.exceptions import ClientError

from keel.aws import error_kind, retry_later
from keel.gate.approvals import ApprovalLookup, NoApprovalLookup, actor_from_detail
from keel.gate.evidence import EvidenceStore, decision_key
from keel.gate.facts import FactCollector, GateFacts, GateNotReadyError
from keel.gate.findings import FindingsSource
from keel.gate.model import (
    Actor,
    ApprovalStatus,
    DecisionKind,
    EvidenceDocument,
    PackageState,
    PolicyResult,
    Receipt,
    Severity,
    TriggerInfo,
    inputs_sha256,
)
from keel.gate.notify import Notifier
from keel.gate.policies import PolicySet, evaluate, load_policies
from keel.gate.reading import RecordingReader
from keel.gate.refs import ForeignModelPackageError, ModelPackageRef, parse_reference
from keel.gate.settings import GovernanceSettings
from keel.lineage.record import RECORD_EVENT_DETAIL_TYPE, RECORD_EVENT_SOURCE

EVENT_SOURCE = "aws.sagemaker"
EVENT_DETAIL_TYPE = "SageMaker Model Package State Change"
DESCRIPTION_LIMIT = 1024
_UNKNOWN_PACKAGE_CODES = {"ValidationException", "ResourceNotFound", "ResourceNotFoundException"}


class RefusedReferenceError(ValueError):
    """A direct caller named no version of Keel's group (unknown, foreign, malformed): nothing was evaluated,
    changed or recorded."""


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class GateDeps:
    """What the gate needs; the Lambda, the CLI, tests and the local runner each build one."""

    settings: GovernanceSettings
    sagemaker: Any
    s3: Any
    kms: Any
    findings: FindingsSource
    approvals: ApprovalLookup = field(default_factory=NoApprovalLookup)
    notifier: Notifier | None = None
    actor: Actor = field(
        default_factory=lambda: Actor(kind="policy-gate", identity="keel-policy-gate", source="library")
    )
    clock: Callable[[], datetime] = utc_now
    policies: PolicySet | None = None

    @property
    def evidence(self) -> EvidenceStore:
        return EvidenceStore(self.s3, self.settings.evidence_bucket)

    @property
    def policy_set(self) -> PolicySet:
        return self.policies or load_policies()


@dataclass
class GateOutcome:
    action: Literal["decided", "duplicate", "no-op", "dry-run", "deferred"]
    model_package_arn: str
    decision: ApprovalStatus | None
    message: str
    evidence: EvidenceDocument | None = None
    evidence_uri: str | None = None
    applied: bool = False

    def as_dict(self) -> dict[str, Any]:
        evidence = self.evidence
        return {
            "action": self.action,
            "model_package_arn": self.model_package_arn,
            "decision": self.decision.value if self.decision else None,
            "message": self.message,
            "evidence_uri": self.evidence_uri,
            "applied": self.applied,
            "decision_id": evidence.decision_id if evidence else None,
            "kind": evidence.kind.value if evidence else None,
            "failed_blocking": evidence.failed_blocking if evidence else [],
        }


def handle_event(deps: GateDeps, event: dict[str, Any]) -> GateOutcome:
    """A model package state change, or Keel's "lineage record written" event for a run that registered a
    package (the gate's evidence is complete only once the run's record exists)."""
    detail = event.get("detail") or {}
    arn = str(detail.get("ModelPackageArn") or next(iter(event.get("resources") or []), ""))
    kind = (event.get("source"), event.get("detail-type"))
    if kind not in ((EVENT_SOURCE, EVENT_DETAIL_TYPE), (RECORD_EVENT_SOURCE, RECORD_EVENT_DETAIL_TYPE)):
        return GateOutcome(
            "no-op", arn, None, f"not a model package state change: {event.get('detail-type')!r}"
        )
    if not arn:
        return GateOutcome("no-op", arn, None, "the event names no model package")
    trigger = TriggerInfo(
        source="event",
        event_id=event.get("id"),
        detail_type=event.get("detail-type"),
        event_time=str(event.get("time")) if event.get("time") else None,
        approval_status_in_event=detail.get("ModelApprovalStatus"),
    )
    if kind == (RECORD_EVENT_SOURCE, RECORD_EVENT_DETAIL_TYPE):
        return gate_model_package(deps, arn, trigger=trigger)
    try:
        return gate_model_package(deps, arn, trigger=trigger, event_detail=detail)
    except GateNotReadyError as error:
        # Registered while its run still executes: the run's lineage record is written when it ends, and the
        # recorder's announcement brings the package back here — however long the run takes. Not an error,
        # not a decision (a transient failure, also a RetryLaterError, still raises and is retried).
        return GateOutcome(
            "deferred", arn, None, f"deferred until the run's lineage record is written: {error}"
        )


def gate_model_package(
    deps: GateDeps,
    reference: str,
    *,
    trigger: TriggerInfo | None = None,
    event_detail: dict[str, Any] | None = None,
    dry_run: bool = False,
) -> GateOutcome:
    """Decide on one model package version (ARN, or version number of Keel's group)."""
    trigger = trigger or TriggerInfo(source="cli")
    settings = deps.settings
    try:
        ref = parse_reference(settings, reference)
    except ForeignModelPackageError as error:
        return _refuse(deps, reference, str(error), trigger, dry_run=dry_run)
    try:
        package = deps.sagemaker.describe_model_package(ModelPackageName=ref.arn)
    except ClientError as error:
        # SageMaker answers ValidationException ("... does not exist") for an unknown package version.
        if error.response.get("Error", {}).get("Code") in _UNKNOWN_PACKAGE_CODES:
            return _refuse(
                deps, ref.arn, f"unknown model package {ref.arn}: {error}", trigger, dry_run=dry_run
            )
        if error_kind(error) == "transient":
            raise retry_later(error, f"DescribeModelPackage {ref.arn}") from error
        raise
    package.pop("ResponseMetadata", None)
    if package.get("ModelPackageGroupName") != settings.model_package_group:
        return _refuse(
            deps,
            ref.arn,
            f"{ref.arn} belongs to group {package.get('ModelPackageGroupName')!r}, not Keel's",
            trigger,
            dry_run=dry_run,
        )
    state = package_state(package)
    if state.package_status not in (None, "Completed"):
        return GateOutcome(
            "no-op",
            ref.arn,
            None,
            f"the package is {state.package_status}: the gate decides once it is Completed",
        )
    status = state.approval_status or ApprovalStatus.PENDING.value
    decision_id = _decision_id(ref.arn, status, state.last_modified)
    store = deps.evidence
    if not dry_run:
        existing = store.get_decision(ref.group, ref.version, decision_id)
        if existing is not None:
            return _replay(deps, ref, existing, state)
    if status == ApprovalStatus.APPROVED:
        if store.has_receipt(ref.group, ref.version, status, state.last_modified):
            return GateOutcome(
                "no-op", ref.arn, ApprovalStatus.APPROVED, "approved by the gate (receipt found)"
            )
        return _review_console_approval(
            deps, ref, package, state, decision_id, trigger, event_detail, dry_run
        )
    if status == ApprovalStatus.REJECTED:
        if store.has_receipt(ref.group, ref.version, status, state.last_modified):
            return GateOutcome(
                "no-op", ref.arn, ApprovalStatus.REJECTED, "rejected by the gate (receipt found)"
            )
        return _observe_rejection(deps, ref, package, state, decision_id, trigger, event_detail, dry_run)
    return _decide_pending(deps, ref, package, state, decision_id, trigger, dry_run)


def package_state(package: dict[str, Any]) -> PackageState:
    return PackageState(
        approval_status=package.get("ModelApprovalStatus"),
        package_status=package.get("ModelPackageStatus"),
        last_modified=_stamp(package.get("LastModifiedTime") or package.get("CreationTime")),
        approval_description=package.get("ApprovalDescription"),
    )


def _stamp(value: Any) -> str | None:
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat(timespec="microseconds")
    return str(value) if value else None


def _decision_id(arn: str, status: str, stamp: str | None) -> str:
    return hashlib.sha256(f"{arn}|{status}|{stamp}".encode()).hexdigest()[:32]


# --- evaluation ---
def _evaluate(
    deps: GateDeps, ref: ModelPackageRef, package: dict[str, Any]
) -> tuple[list[PolicyResult], GateFacts, RecordingReader]:
    reader = RecordingReader(deps.s3)
    collector = FactCollector(deps.settings, deps.sagemaker, deps.s3, deps.kms, deps.findings, reader)
    facts = collector.collect(ref.arn, package)
    return evaluate(deps.policy_set.policies, facts, deps.settings), facts, reader


def _failed(results: list[PolicyResult], severity: Severity) -> list[PolicyResult]:
    return [r for r in results if r.severity is severity and not r.passed]


def _failure_text(failed: list[PolicyResult]) -> str:
    return "; ".join(f"{r.id}: {r.reason}" for r in failed)


def _document(
    deps: GateDeps,
    *,
    kind: DecisionKind,
    decision_id: str,
    ref: ModelPackageRef | None,
    arn: str,
    trigger: TriggerInfo,
    state: PackageState | None,
    decision: ApprovalStatus,
    reason: str,
    results: list[PolicyResult] | None = None,
    facts: GateFacts | None = None,
    reader: RecordingReader | None = None,
    approver: Actor | None = None,
    dry_run: bool,
) -> EvidenceDocument:
    results = results or []
    reads = reader.reads if reader else []
    return EvidenceDocument(
        kind=kind,
        decision_id=decision_id,
        environment=deps.settings.env,
        model_package_arn=arn,
        model_package_group=ref.group if ref else None,
        model_package_version=ref.version if ref else None,
        decided_at=deps.clock().astimezone(UTC).isoformat(timespec="microseconds"),
        actor=deps.actor,
        trigger=trigger,
        state_before=state,
        decision=decision,
        applied=state is not None and decision.value != state.approval_status,
        reason=reason,
        failed_blocking=[r.id for r in _failed(results, Severity.BLOCKING)],
        failed_advisory=[r.id for r in _failed(results, Severity.ADVISORY)],
        policies=results,
        policy_set_sha256=deps.policy_set.sha256 if results else None,
        approver=approver,
        inputs=reads,
        inputs_sha256=inputs_sha256(reads),
        lineage_record_uri=facts.record_uri if facts else None,
        execution_id=facts.execution_id if facts else None,
        dry_run=dry_run,
    ).sealed()


def _decide_pending(
    deps: GateDeps,
    ref: ModelPackageRef,
    package: dict[str, Any],
    state: PackageState,
    decision_id: str,
    trigger: TriggerInfo,
    dry_run: bool,
) -> GateOutcome:
    results, facts, reader = _evaluate(deps, ref, package)
    failed = _failed(results, Severity.BLOCKING)
    blocking = len([r for r in results if r.severity is Severity.BLOCKING])
    if failed:
        decision, reason = ApprovalStatus.REJECTED, f"rejected: {_failure_text(failed)}"
    elif deps.settings.auto_approve:
        decision = ApprovalStatus.APPROVED
        reason = (
            f"approved: all {blocking} blocking policies passed; {deps.settings.env} allows auto-approval"
        )
    else:
        decision = ApprovalStatus.PENDING
        reason = (
            f"passed: all {blocking} blocking policies passed; {deps.settings.env} requires a human approval"
        )
    document = _document(
        deps,
        kind=DecisionKind.GATE,
        decision_id=decision_id,
        ref=ref,
        arn=ref.arn,
        trigger=trigger,
        state=state,
        decision=decision,
        reason=reason,
        results=results,
        facts=facts,
        reader=reader,
        dry_run=dry_run,
    )
    return _commit(deps, ref, document, state, dry_run=dry_run)


def _approver(
    deps: GateDeps, arn: str, status: str, package: dict[str, Any], event_detail: dict[str, Any] | None
) -> Actor:
    """Who set `status`: CloudTrail's record of the call if found, else the event detail / package (the
    identity SageMaker itself recorded). What the CloudTrail lookup answered is kept either way."""
    from_detail = actor_from_detail(event_detail if (event_detail or {}).get("LastModifiedBy") else package)
    lookup = deps.approvals.find(arn, status, until=deps.clock())
    chosen = lookup.actor or from_detail
    if chosen is None:
        return Actor(
            kind="unknown",
            identity=None,
            source="none",
            details={"cloudtrail": lookup.note, "event_detail": "no LastModifiedBy identity"},
        )
    details = dict(chosen.details)
    if lookup.actor and from_detail:
        details["event_detail_identity"] = from_detail.identity
    if not lookup.actor:
        details["cloudtrail"] = lookup.note
    return chosen.model_copy(update={"details": details})


def _review_console_approval(
    deps: GateDeps,
    ref: ModelPackageRef,
    package: dict[str, Any],
    state: PackageState,
    decision_id: str,
    trigger: TriggerInfo,
    event_detail: dict[str, Any] | None,
    dry_run: bool,
) -> GateOutcome:
    approver = _approver(deps, ref.arn, ApprovalStatus.APPROVED.value, package, event_detail)
    results, facts, reader = _evaluate(deps, ref, package)
    failed = _failed(results, Severity.BLOCKING)
    who = approver.identity or "an unknown identity"
    if approver.identity is None:  # fail closed: an approval nobody can be held to does not stand
        decision = ApprovalStatus.REJECTED
        reason = (
            "approved outside the gate by an identity that could not be established (CloudTrail "
            f"{approver.details.get('cloudtrail')}; the event names no identity), set back to Rejected"
        )
        if failed:
            reason += f"; also failed: {_failure_text(failed)}"
    elif failed:
        decision = ApprovalStatus.REJECTED
        reason = f"approved outside the gate by {who}, set back to Rejected: {_failure_text(failed)}"
    else:
        decision = ApprovalStatus.APPROVED
        reason = f"approved outside the gate by {who}; all blocking policies passed, approval kept"
    document = _document(
        deps,
        kind=DecisionKind.CONSOLE_APPROVAL,
        decision_id=decision_id,
        ref=ref,
        arn=ref.arn,
        trigger=trigger,
        state=state,
        decision=decision,
        reason=reason,
        results=results,
        facts=facts,
        reader=reader,
        approver=approver,
        dry_run=dry_run,
    )
    return _commit(deps, ref, document, state, dry_run=dry_run)


def _observe_rejection(
    deps: GateDeps,
    ref: ModelPackageRef,
    package: dict[str, Any],
    state: PackageState,
    decision_id: str,
    trigger: TriggerInfo,
    event_detail: dict[str, Any] | None,
    dry_run: bool,
) -> GateOutcome:
    approver = _approver(deps, ref.arn, ApprovalStatus.REJECTED.value, package, event_detail)
    document = _document(
        deps,
        kind=DecisionKind.OBSERVED_REJECTION,
        decision_id=decision_id,
        ref=ref,
        arn=ref.arn,
        trigger=trigger,
        state=state,
        decision=ApprovalStatus.REJECTED,
        reason=f"rejected outside the gate by {approver.identity or 'an unknown identity'}",
        approver=approver,
        dry_run=dry_run,
    )
    return _commit(deps, ref, document, state, dry_run=dry_run)


def _refuse(
    deps: GateDeps, reference: str, reason: str, trigger: TriggerInfo, *, dry_run: bool
) -> GateOutcome:
    """Unknown or foreign package: nothing is evaluated or changed. An event's refusal is recorded; a direct
    caller's (CLI) is raised, never written (a typo must not leave a permanent record)."""
    if trigger.source != "event":
        raise RefusedReferenceError(reason)
    occasion = trigger.event_id or deps.clock().isoformat()
    decision_id = hashlib.sha256(f"refused|{reference}|{occasion}".encode()).hexdigest()[:32]
    document = _document(
        deps,
        kind=DecisionKind.REFUSED,
        decision_id=decision_id,
        ref=None,
        arn=reference,
        trigger=trigger,
        state=None,
        decision=ApprovalStatus.REJECTED,
        reason=f"refused: {reason}",
        dry_run=dry_run,
    )
    return _commit(deps, None, document, None, dry_run=dry_run)


# --- writing and applying ---
def _commit(
    deps: GateDeps,
    ref: ModelPackageRef | None,
    document: EvidenceDocument,
    state: PackageState | None,
    *,
    dry_run: bool,
) -> GateOutcome:
    if dry_run:
        return GateOutcome(
            "dry-run", document.model_package_arn, document.decision, document.reason, document
        )
    store = deps.evidence
    written, key = store.put_decision(document)
    if not written:  # a concurrent duplicate decided first: use its decision
        existing = store.get_decision(
            document.model_package_group, document.model_package_version, document.decision_id
        )
        if existing is None or ref is None or state is None:
            return GateOutcome(
                "duplicate",
                document.model_package_arn,
                document.decision,
                "already decided",
                existing,
                store.uri(key),
            )
        return _replay(deps, ref, existing, state)
    applied = _apply(deps, ref, document, store.uri(key)) if ref and document.applied else False
    _notify(deps, document, store.uri(key))
    return GateOutcome(
        "decided",
        document.model_package_arn,
        document.decision,
        document.reason,
        document,
        store.uri(key),
        applied,
    )


def _replay(
    deps: GateDeps, ref: ModelPackageRef, existing: EvidenceDocument, state: PackageState
) -> GateOutcome:
    """The decision exists already (duplicate event, or a retry after a crash): finish applying it."""
    store = deps.evidence
    uri = store.uri(
        decision_key(existing.model_package_group, existing.model_package_version, existing.decision_id)
    )
    before = existing.state_before
    unapplied = (
        existing.applied
        and before is not None
        and (before.approval_status, before.last_modified) == (state.approval_status, state.last_modified)
    )
    applied = _apply(deps, ref, existing, uri) if unapplied else False
    return GateOutcome(
        "duplicate",
        existing.model_package_arn,
        existing.decision,
        f"already decided ({existing.decision_id}): {existing.reason}",
        existing,
        uri,
        applied,
    )


def approval_description(document: EvidenceDocument, evidence_uri: str) -> str:
    text = f"Keel policy gate {document.decision_id[:12]}: {document.reason} Evidence: {evidence_uri}"
    if len(text) <= DESCRIPTION_LIMIT:
        return text
    tail = f"… Evidence: {evidence_uri}"
    return text[: DESCRIPTION_LIMIT - len(tail)] + tail


def _apply(deps: GateDeps, ref: ModelPackageRef, document: EvidenceDocument, evidence_uri: str) -> bool:
    try:
        return _update_package(deps, ref, document, evidence_uri)
    except ClientError as error:
        # The evidence is written: a retry finds it and only finishes applying it (`_replay`).
        if error_kind(error) == "transient":
            raise retry_later(error, f"applying decision {document.decision_id} to {ref.arn}") from error
        raise


def _update_package(
    deps: GateDeps, ref: ModelPackageRef, document: EvidenceDocument, evidence_uri: str
) -> bool:
    metadata = deps.sagemaker.describe_model_package(ModelPackageName=ref.arn).get(
        "CustomerMetadataProperties"
    )
    # SageMaker merges CustomerMetadataProperties on update (passing them again changes nothing); moto 5.2
    # replaces them, so they are passed to keep Keel's metadata (execution id, inputs) on the package.
    extra = {"CustomerMetadataProperties": metadata} if metadata else {}
    deps.sagemaker.update_model_package(
        ModelPackageArn=ref.arn,
        ModelApprovalStatus=document.decision.value,
        ApprovalDescription=approval_description(document, evidence_uri),
        **extra,
    )
    after = package_state(deps.sagemaker.describe_model_package(ModelPackageName=ref.arn))
    receipt = Receipt(
        decision_id=document.decision_id,
        model_package_arn=ref.arn,
        applied_at=deps.clock().astimezone(UTC).isoformat(timespec="microseconds"),
        state_after=after,
    )
    deps.evidence.put_receipt(ref.group, ref.version, receipt)
    return True


def _notify(deps: GateDeps, document: EvidenceDocument, evidence_uri: str) -> None:
    if deps.notifier is None:
        return
    label = f"{document.model_package_group or '?'} v{document.model_package_version or '?'}"
    if document.kind is DecisionKind.CONSOLE_APPROVAL and document.decision is ApprovalStatus.REJECTED:
        subject = f"Keel {deps.settings.env}: approval of {label} reverted by the policy gate"
    elif (
        document.decision is ApprovalStatus.REJECTED and document.kind is not DecisionKind.OBSERVED_REJECTION
    ):
        subject = f"Keel {deps.settings.env}: {label} rejected by the policy gate"
    elif document.decision is ApprovalStatus.PENDING:
        subject = f"Keel {deps.settings.env}: {label} passed the policy gate, awaiting approval"
    else:
        return
    deps.notifier.publish(
        subject,
        {
            "model_package_arn": document.model_package_arn,
            "decision": document.decision.value,
            "kind": document.kind.value,
            "reason": document.reason,
            "failed_blocking": document.failed_blocking,
            "evidence": evidence_uri,
        },
    )
