"""Wire the gate from a boto3 session: the AWS implementations of its interfaces.

The Lambda calls `gate_deps(settings)`; the CLI does the same with the environment's session. The local
runner (moto has neither Macie ListFindings nor CloudTrail LookupEvents) passes its own `findings` and
`approvals`, e.g. `QuarantineFindingsSource` and `NoApprovalLookup`.
"""

from __future__ import annotations

from typing import Any

from keel.aws import RETRYING
from keel.gate.approvals import ApprovalLookup, CloudTrailApprovalLookup
from keel.gate.decide import GateDeps
from keel.gate.findings import (
    CompositeFindingsSource,
    FindingsSource,
    Macie2FindingsSource,
    QuarantineFindingsSource,
)
from keel.gate.model import Actor
from keel.gate.notify import Notifier, SnsNotifier
from keel.gate.settings import GovernanceSettings


def gate_deps(
    settings: GovernanceSettings,
    session: Any | None = None,
    *,
    endpoint_url: str | None = None,
    findings: FindingsSource | None = None,
    approvals: ApprovalLookup | None = None,
    notifier: Notifier | None = None,
    actor: Actor | None = None,
) -> GateDeps:
    if session is None:
        import boto3

        session = boto3.session.Session(region_name=settings.region)

    def client(service: str, config: Any = RETRYING) -> Any:
        return session.client(service, region_name=settings.region, endpoint_url=endpoint_url, config=config)  # type: ignore[call-overload]

    # Reads and idempotent writes (If-None-Match evidence, setting an approval status) get the retry mode.
    # SNS Publish is not idempotent: its client is not given it (it keeps whatever boto3 configures).
    s3 = client("s3")
    if findings is None:
        findings = CompositeFindingsSource(
            [Macie2FindingsSource(client("macie2")), QuarantineFindingsSource(s3, settings.evidence_bucket)]
        )
    deps = GateDeps(
        settings=settings,
        sagemaker=client("sagemaker"),
        s3=s3,
        kms=client("kms"),
        findings=findings,
        approvals=approvals or CloudTrailApprovalLookup(client("cloudtrail")),
        notifier=notifier or SnsNotifier(client("sns", None), settings.alert_topic_arn),
    )
    if actor is not None:
        deps.actor = actor
    return deps
