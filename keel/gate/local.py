"""The policy gate and the Macie quarantine for the local runner and `keel gate --env local` (moto server).

The same code the Lambdas run, with local stand-ins for what moto lacks: open findings come from Keel's
quarantine records (no Macie ListFindings), the approver from the event detail only (no CloudTrail
LookupEvents), and the events themselves are built here (moto emits no SageMaker or Macie events).

    from keel.gate.local import gate_registered_model, quarantine_object
    outcome = gate_registered_model(config, run.result.model_package_arn, session=session, endpoint_url=url)
    result = quarantine_object(config, bucket, key, version_id, finding_id="f-1", session=session)
"""

from __future__ import annotations

from typing import Any

from keel.config import EnvironmentConfig
from keel.gate.approvals import NoApprovalLookup
from keel.gate.decide import GateDeps, GateOutcome, handle_event
from keel.gate.events import macie_finding, model_package_state_change
from keel.gate.findings import FindingsSource, QuarantineFindingsSource, UnavailableFindingsSource
from keel.gate.model import Actor
from keel.gate.notify import SnsNotifier
from keel.gate.runtime import gate_deps
from keel.gate.settings import GovernanceSettings
from keel.quarantine import quarantine
from keel.quarantine.quarantine import QuarantineDeps, QuarantineResult

LOCAL_ACTOR = Actor(kind="policy-gate", identity="keel-local-runner", source="local")


def _session(config: EnvironmentConfig, session: Any | None) -> Any:
    if session is not None:
        return session
    import boto3

    return boto3.session.Session(region_name=config.region)


def local_gate_deps(
    config: EnvironmentConfig,
    *,
    session: Any | None = None,
    endpoint_url: str | None = None,
    findings: FindingsSource | None = None,
    actor: Actor = LOCAL_ACTOR,
) -> GateDeps:
    settings = GovernanceSettings.from_config(config)
    deps = gate_deps(
        settings,
        _session(config, session),
        endpoint_url=endpoint_url,
        findings=UnavailableFindingsSource("replaced below"),
        approvals=NoApprovalLookup(),
        actor=actor,
    )
    deps.findings = findings or QuarantineFindingsSource(deps.s3, settings.evidence_bucket)
    return deps


def gate_registered_model(
    config: EnvironmentConfig,
    model_package_arn: str,
    *,
    session: Any | None = None,
    endpoint_url: str | None = None,
    findings: FindingsSource | None = None,
) -> GateOutcome:
    """What the gate Lambda does when a new version is registered (the event moto does not emit)."""
    deps = local_gate_deps(config, session=session, endpoint_url=endpoint_url, findings=findings)
    return handle_event(deps, model_package_state_change(model_package_arn, "PendingManualApproval"))


def local_quarantine_deps(
    config: EnvironmentConfig, *, session: Any | None = None, endpoint_url: str | None = None
) -> QuarantineDeps:
    settings = GovernanceSettings.from_config(config)
    session = _session(config, session)
    return QuarantineDeps(
        settings=settings,
        s3=session.client("s3", endpoint_url=endpoint_url),
        notifier=SnsNotifier(session.client("sns", endpoint_url=endpoint_url), settings.alert_topic_arn),
    )


def quarantine_object(
    config: EnvironmentConfig,
    bucket: str,
    key: str,
    version_id: str | None,
    *,
    finding_id: str,
    finding_type: str = "SensitiveData:S3Object/Personal",
    session: Any | None = None,
    endpoint_url: str | None = None,
) -> QuarantineResult:
    """What the quarantine Lambda does on a Macie finding for this object (Macie does not scan locally)."""
    deps = local_quarantine_deps(config, session=session, endpoint_url=endpoint_url)
    event = macie_finding(
        bucket,
        key,
        version_id,
        finding_id=finding_id,
        finding_type=finding_type,
        account=config.account,
        region=config.region,
    )
    return quarantine.handle_event(deps, event)
