"""The policy gate and the Macie quarantine for the local runner and `keel gate --env local` (moto server).

The same code the Lambdas run, with local stand-ins for what moto lacks: open findings come from Keel's
quarantine records (no Macie ListFindings), the approver from the event detail only (no CloudTrail
LookupEvents), and the events themselves are built here (moto emits no SageMaker or Macie events).

    from keel.gate.local import gate_registered_model, quarantine_object
    outcome = gate_registered_model(config, arn, sagemaker=sagemaker, s3=s3, kms=kms, sns=sns)
    result = quarantine_object(config, bucket, key, version_id, finding_id="f-1", s3=s3, sns=sns)
"""

from __future__ import annotations

from typing import Any

from keel.config import EnvironmentConfig
from keel.gate.approvals import NoApprovalLookup
from keel.gate.decide import GateDeps, GateOutcome, handle_event
from keel.gate.events import macie_finding, model_package_state_change
from keel.gate.findings import FindingsSource, QuarantineFindingsSource
from keel.gate.model import Actor
from keel.gate.notify import SnsNotifier
from keel.gate.settings import GovernanceSettings
from keel.quarantine import quarantine
from keel.quarantine.quarantine import QuarantineDeps, QuarantineResult

LOCAL_ACTOR = Actor(kind="policy-gate", identity="keel-local-runner", source="local")


def local_gate_deps(
    config: EnvironmentConfig,
    *,
    sagemaker: Any,
    s3: Any,
    kms: Any,
    sns: Any | None = None,
    findings: FindingsSource | None = None,
    actor: Actor = LOCAL_ACTOR,
) -> GateDeps:
    """Gate dependencies from boto3 clients of the local AWS; alerts go to the alert topic with `sns`."""
    settings = GovernanceSettings.from_config(config)
    return GateDeps(
        settings=settings,
        sagemaker=sagemaker,
        s3=s3,
        kms=kms,
        findings=findings or QuarantineFindingsSource(s3, settings.evidence_bucket),
        approvals=NoApprovalLookup(),
        notifier=SnsNotifier(sns, settings.alert_topic_arn) if sns is not None else None,
        actor=actor,
    )


def gate_registered_model(
    config: EnvironmentConfig,
    model_package_arn: str,
    *,
    sagemaker: Any,
    s3: Any,
    kms: Any,
    sns: Any | None = None,
    findings: FindingsSource | None = None,
) -> GateOutcome:
    """What the gate Lambda does when a new version is registered (the event moto does not emit)."""
    deps = local_gate_deps(config, sagemaker=sagemaker, s3=s3, kms=kms, sns=sns, findings=findings)
    return handle_event(deps, model_package_state_change(model_package_arn, "PendingManualApproval"))


def quarantine_object(
    config: EnvironmentConfig,
    bucket: str,
    key: str,
    version_id: str | None,
    *,
    finding_id: str,
    s3: Any,
    sns: Any | None = None,
    finding_type: str = "SensitiveData:S3Object/Personal",
) -> QuarantineResult:
    """What the quarantine Lambda does on a Macie finding for this object (Macie does not scan locally)."""
    settings = GovernanceSettings.from_config(config)
    notifier = SnsNotifier(sns, settings.alert_topic_arn) if sns is not None else None
    event = macie_finding(
        bucket,
        key,
        version_id,
        finding_id=finding_id,
        finding_type=finding_type,
        account=config.account,
        region=config.region,
    )
    return quarantine.handle_event(QuarantineDeps(settings, s3, notifier), event)
