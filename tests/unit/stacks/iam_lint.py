"""parliament (IAM lint) on every policy document of a cloud assembly, one finding per action.

Which documents: identity policies (AWS::IAM::Policy, AWS::IAM::ManagedPolicy, a role's inline Policies),
role trust policies, and resource policies (bucket, topic, queue and key policies), with their intrinsics
resolved (cfn_resolve). Two kinds are adapted so that parliament's checks apply to them rather than fail on
their form:
- a trust policy has no Resource: the role's own ARN is added (it is the role's resource policy);
- a key policy's Resource `*` means "this key": the key's ARN stands in for it, so that its actions are
  checked against the key resource type. A wildcard action there (`kms:*`, `kms:Describe*`) stands for the
  actions of the family that take a key, the only ones a key policy can grant, and another resource an action
  needs besides the key (the alias of kms:CreateAlias) is not the key policy's to name: the caller's IAM
  policy grants it. Named actions are kept as written and checked like any other.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import parliament
from parliament.finding import Finding
from parliament.statement import get_privilege_info

from tests.unit.stacks.cfn_resolve import Resolver, StackTemplate, stack_templates

IDENTITY_POLICIES = ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy")
RESOURCE_POLICIES = {  # resource type: the property holding its policy document
    "AWS::S3::BucketPolicy": "PolicyDocument",
    "AWS::SNS::TopicPolicy": "PolicyDocument",
    "AWS::SQS::QueuePolicy": "PolicyDocument",
    "AWS::KMS::Key": "KeyPolicy",
}
TRUST_POLICY = "AWS::IAM::Role AssumeRolePolicyDocument"
KEY_POLICY = "AWS::KMS::Key"


@dataclass(frozen=True)
class PolicyDocument:
    stack: str
    logical_id: str
    construct_path: str  # the CDK path of the resource that holds the document
    kind: str  # the resource type, or TRUST_POLICY, or "AWS::IAM::Role Policies/<name>"
    document: Mapping[str, Any]


@dataclass(frozen=True)
class IamFinding:
    """One parliament finding on one action (a statement's finding on N actions is N of these)."""

    issue: str
    subject: str  # the action, "action|condition key" for a condition finding, else the statement's sid
    policy: PolicyDocument
    sid: str | None
    detail: str

    @property
    def key(self) -> str:
        return f"{self.issue}[{self.subject}]"

    def __str__(self) -> str:
        return (
            f"{self.key} in {self.policy.construct_path} ({self.policy.kind}, sid={self.sid}): {self.detail}"
        )


def policy_documents(outdir: Path, partition: str) -> list[PolicyDocument]:
    stacks = stack_templates(outdir, partition)
    paths = _construct_paths(json.loads((outdir / "tree.json").read_text())["tree"])
    return [document for stack in stacks.values() for document in _stack_documents(stack, stacks, paths)]


def _construct_paths(node: Mapping[str, Any]) -> dict[tuple[str, str], str]:
    """(stack, logical id) → construct path, from tree.json (the templates carry no aws:cdk:path metadata)."""
    paths: dict[tuple[str, str], str] = {}
    pending = [node]
    while pending:
        current = pending.pop()
        logical_id = current.get("attributes", {}).get("aws:cdk:cloudformation:logicalId")
        if logical_id is not None:
            paths[(current["path"].split("/")[0], logical_id)] = current["path"]
        pending.extend(current.get("children", {}).values())
    return paths


def _stack_documents(
    stack: StackTemplate, stacks: Mapping[str, StackTemplate], paths: Mapping[tuple[str, str], str]
) -> Iterator[PolicyDocument]:
    resolver = Resolver(stack, stacks)
    for logical_id, resource in stack.template["Resources"].items():
        resource_type = resource["Type"]
        properties = resource.get("Properties", {})
        raw: list[tuple[str, Any]] = []
        if resource_type in IDENTITY_POLICIES:
            raw.append((resource_type, properties["PolicyDocument"]))
        elif resource_type in RESOURCE_POLICIES:
            raw.append((resource_type, properties[RESOURCE_POLICIES[resource_type]]))
        elif resource_type == "AWS::IAM::Role":
            raw.append((TRUST_POLICY, properties["AssumeRolePolicyDocument"]))
            raw.extend(
                (f"{resource_type} Policies/{inline['PolicyName']}", inline["PolicyDocument"])
                for inline in properties.get("Policies", [])
            )
        if not raw:
            continue
        own_arn = resolver.resolve({"Fn::GetAtt": [logical_id, "Arn"]}) if resource_type in _OWN else ""
        for kind, document in raw:
            resolved = resolver.resolve(document)
            statements = [_adapt(kind, statement, own_arn) for statement in _as_list(resolved["Statement"])]
            path = paths[(stack.name, logical_id)]
            yield PolicyDocument(stack.name, logical_id, path, kind, {**resolved, "Statement": statements})


_OWN = ("AWS::IAM::Role", KEY_POLICY)  # documents whose statements may stand for the resource's own ARN


def _adapt(kind: str, statement: dict[str, Any], own_arn: str) -> dict[str, Any]:
    if kind == TRUST_POLICY:
        return {"Resource": own_arn, **statement}
    if kind != KEY_POLICY or statement.get("Resource") not in ("*", ["*"]):
        return statement
    adapted = {**statement, "Resource": own_arn}
    if "Action" in statement:
        adapted["Action"] = [
            keyed for action in _as_list(statement["Action"]) for keyed in _key_actions(action)
        ]
    return adapted


def _key_actions(action: str) -> list[str]:
    """A wildcard action's expansion to the actions that take a key (unchanged if none or unknown)."""
    if "*" not in action:
        return [action]
    try:
        expanded = parliament.expand_action(action)
    except (parliament.UnknownActionException, parliament.UnknownPrefixException):
        return [action]  # parliament reports it
    keyed = [name for item in expanded if _takes_key(name := f"{item['service']}:{item['action']}")]
    return keyed or [action]


def _takes_key(action: str) -> bool:
    service, name = action.split(":", 1)
    resource_types = get_privilege_info(service, name)["resource_types"]
    return any(kind["resource_type"].rstrip("*") == "key" for kind in resource_types)


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def lint(documents: list[PolicyDocument]) -> list[IamFinding]:
    """parliament's findings with its default configuration (all severities, no community auditors)."""
    findings: list[IamFinding] = []
    for policy in documents:
        analyzed = parliament.analyze_policy_string(json.dumps(policy.document))
        for finding in analyzed._findings:  # policy-level findings (e.g. DUPLICATE_SID)
            findings.extend(_split(finding, policy, None))
        for statement in analyzed.statements:
            for finding in statement.findings:
                findings.extend(_split(finding, policy, statement.sid))
    return findings


def _split(finding: Finding, policy: PolicyDocument, sid: str | None) -> list[IamFinding]:
    detail = finding.detail
    subjects: list[str]
    if finding.issue == "RESOURCE_MISMATCH":
        subjects = [
            item["action"]
            for item in detail
            # A key policy names only its key (module docstring): an action that takes the key is granted
            # here, whatever other resource it also needs.
            if policy.kind != KEY_POLICY or not _takes_key(item["action"])
        ]
    elif finding.issue == "RESOURCE_STAR":
        subjects = list(detail)
    elif finding.issue == "UNKNOWN_CONDITION_FOR_ACTION":
        words = str(detail).split()  # "Unknown condition {key} for action {service}:{action}"
        subjects = [f"{words[-1]}|{words[2]}"]
    elif finding.issue in ("UNKNOWN_ACTION", "UNKNOWN_PREFIX"):
        subjects = [str(finding.location.get("string", detail))]
    else:
        subjects = [sid or "-"]
    text = json.dumps(detail, default=str)
    return [IamFinding(finding.issue, subject, policy, sid, text) for subject in subjects]
