"""Compliance as code: the cdk-nag packs Keel must pass, and acknowledgments kept next to their constructs.

The packs run as CDK Validations on every synth; an unacknowledged finding fails synth. cdk-nag has no rules
for Macie, SageMaker pipelines or Glue catalog encryption: Keel's own tests cover those.
"""

from __future__ import annotations

import contextvars
import functools
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from aws_cdk import Acknowledgment, App, Validations
from cdk_nag import AwsSolutionsChecks, HIPAASecurityChecks, NIST80053R5Checks, ServerlessChecks
from constructs import IConstruct

PACKS = ("AwsSolutions", "HIPAA.Security", "NIST.800.53.R5", "Serverless")
# Context flag for the test that proves every acknowledgment still matches a real finding.
SKIP_ACKNOWLEDGMENTS_CONTEXT = "keel:skip-acknowledgments"


@dataclass(frozen=True)
class AcknowledgmentRecord:
    construct: IConstruct = field(repr=False)
    rule_id: str
    reason: str

    @functools.cached_property
    def construct_path(self) -> str:
        # Read when asked (tests), not per acknowledgment: each jsii property read is a round trip to Node.
        return self.construct.node.path


_RECORDS_ATTRIBUTE = "_keel_acknowledgments"
_SKIP_ATTRIBUTE = "_keel_skip_acknowledgments"


def acknowledgments(app: IConstruct) -> list[AcknowledgmentRecord]:
    """Every acknowledgment made in this app (kept on the root construct, which jsii keeps as one object)."""
    return list(getattr(app, _RECORDS_ATTRIBUTE, ()))


def add_compliance_checks(app: App) -> None:
    validations = Validations.of(app)
    validations.add_plugins(AwsSolutionsChecks(app))
    validations.add_plugins(HIPAASecurityChecks(app))
    validations.add_plugins(NIST80053R5Checks(app))
    validations.add_plugins(ServerlessChecks(app))


# The root of the app being built (see `building_app`); None: ask each construct for its root.
_BUILDING_ROOT: contextvars.ContextVar[IConstruct | None] = contextvars.ContextVar("keel_root", default=None)


@contextmanager
def building_app(root: IConstruct) -> Iterator[None]:
    """While constructs are added to `root`'s tree, `acknowledge` knows their root without asking jsii
    (`construct.node.root` is two round trips to Node, ~500 acknowledgments per environment)."""
    token = _BUILDING_ROOT.set(root)
    try:
        yield
    finally:
        _BUILDING_ROOT.reset(token)


def acknowledge(construct: IConstruct, reason: str, *rule_ids: str) -> None:
    """Acknowledge findings on one construct (and its children) with a specific reason."""
    if len(reason) < 20:
        raise ValueError("an acknowledgment needs a specific reason, not a token one")
    root = _BUILDING_ROOT.get() or construct.node.root
    if not hasattr(root, _RECORDS_ATTRIBUTE):
        setattr(root, _RECORDS_ATTRIBUTE, [])
        # Context is fixed once the root has children, so it is read once per app (~500 calls per synth).
        setattr(root, _SKIP_ATTRIBUTE, bool(root.node.try_get_context(SKIP_ACKNOWLEDGMENTS_CONTEXT)))
    getattr(root, _RECORDS_ATTRIBUTE).extend(
        AcknowledgmentRecord(construct, rule_id, reason) for rule_id in rule_ids
    )
    if getattr(root, _SKIP_ATTRIBUTE):
        return
    Validations.of(construct).acknowledge(
        *(Acknowledgment(id=rule_id, reason=reason) for rule_id in rule_ids)
    )


# IAM lint (parliament, tests/unit/stacks/test_iam_lint.py): every finding on a synthesized policy document
# fails the test unless acknowledged, next to the construct whose policy carries it; the test also fails on an
# acknowledgment that matches no finding. A key is ISSUE[action], ISSUE[action|condition key] (a condition key
# that does not apply to the action) or ISSUE[statement sid] (a finding on the statement as a whole).
_IAM_LINT_RECORDS_ATTRIBUTE = "_keel_iam_lint_acknowledgments"
IAM_LINT_KEY = re.compile(r"[A-Z_]+\[[^\[\]\s]+\]")


def acknowledge_iam_lint(construct: IConstruct, reason: str, *finding_keys: str) -> None:
    """Acknowledge IAM-lint findings on the policies of one construct (and its children) with their reason."""
    if len(reason) < 20:
        raise ValueError("an acknowledgment needs a specific reason, not a token one")
    malformed = [key for key in finding_keys if not IAM_LINT_KEY.fullmatch(key)]
    if malformed or not finding_keys:
        raise ValueError(f"IAM-lint finding keys are ISSUE[action|sid], got {malformed or 'none'}")
    root = construct.node.root
    if not hasattr(root, _IAM_LINT_RECORDS_ATTRIBUTE):
        setattr(root, _IAM_LINT_RECORDS_ATTRIBUTE, [])
    getattr(root, _IAM_LINT_RECORDS_ATTRIBUTE).extend(
        AcknowledgmentRecord(construct, key, reason) for key in finding_keys
    )


def iam_lint_acknowledgments(app: IConstruct) -> list[AcknowledgmentRecord]:
    """Every IAM-lint acknowledgment made in this app."""
    return list(getattr(app, _IAM_LINT_RECORDS_ATTRIBUTE, ()))
