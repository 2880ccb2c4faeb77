"""Compliance as code: the cdk-nag packs Keel must pass, and acknowledgments kept next to their constructs.

The packs run as CDK Validations on every synth; an unacknowledged finding fails synth. cdk-nag has no rules
for Macie, SageMaker pipelines or Glue catalog encryption: Keel's own tests cover those.
"""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import Acknowledgment, App, Validations
from cdk_nag import AwsSolutionsChecks, HIPAASecurityChecks, NIST80053R5Checks, ServerlessChecks
from constructs import IConstruct

PACKS = ("AwsSolutions", "HIPAA.Security", "NIST.800.53.R5", "Serverless")
# Context flag for the test that proves every acknowledgment still matches a real finding.
SKIP_ACKNOWLEDGMENTS_CONTEXT = "keel:skip-acknowledgments"


@dataclass(frozen=True)
class AcknowledgmentRecord:
    construct_path: str
    rule_id: str
    reason: str


_RECORDS_ATTRIBUTE = "_keel_acknowledgments"


def acknowledgments(app: IConstruct) -> list[AcknowledgmentRecord]:
    """Every acknowledgment made in this app (kept on the root construct, which jsii keeps as one object)."""
    return list(getattr(app, _RECORDS_ATTRIBUTE, ()))


def add_compliance_checks(app: App) -> None:
    validations = Validations.of(app)
    validations.add_plugins(AwsSolutionsChecks(app))
    validations.add_plugins(HIPAASecurityChecks(app))
    validations.add_plugins(NIST80053R5Checks(app))
    validations.add_plugins(ServerlessChecks(app))


def acknowledge(construct: IConstruct, reason: str, *rule_ids: str) -> None:
    """Acknowledge findings on one construct (and its children) with a specific reason."""
    if len(reason) < 20:
        raise ValueError("an acknowledgment needs a specific reason, not a token one")
    root = construct.node.root
    if not hasattr(root, _RECORDS_ATTRIBUTE):
        setattr(root, _RECORDS_ATTRIBUTE, [])
    getattr(root, _RECORDS_ATTRIBUTE).extend(
        AcknowledgmentRecord(construct.node.path, rule_id, reason) for rule_id in rule_ids
    )
    if root.node.try_get_context(SKIP_ACKNOWLEDGMENTS_CONTEXT):
        return
    Validations.of(construct).acknowledge(
        *(Acknowledgment(id=rule_id, reason=reason) for rule_id in rule_ids)
    )
