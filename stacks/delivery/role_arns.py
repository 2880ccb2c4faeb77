"""Render the change-set actions' execution-role ARNs as Fn::Sub.

CDK Pipelines renders each CloudFormation action's `Configuration.RoleArn` (the target account's CDK
bootstrap cfn-exec role) as an Fn::Join over the partition; cfn-lint validates that field as a role ARN
(E3703) and rejects the Join. The same value as Fn::Sub is accepted and deploys identically.
"""

from __future__ import annotations

from typing import Any

from aws_cdk import Stack
from aws_cdk import aws_codepipeline as codepipeline


def join_as_sub(value: Any) -> dict[str, str] | None:
    """`{"Fn::Join": ["", [str | {"Ref": name}, ...]]}` as `{"Fn::Sub": "..."}`; None for anything else."""
    if not isinstance(value, dict) or set(value) != {"Fn::Join"}:
        return None
    delimiter, parts = value["Fn::Join"]
    if delimiter != "" or not isinstance(parts, list):
        return None
    rendered = []
    for part in parts:
        if isinstance(part, str) and "${" not in part:
            rendered.append(part)
        elif isinstance(part, dict) and set(part) == {"Ref"} and isinstance(part["Ref"], str):
            rendered.append("${" + part["Ref"] + "}")
        else:
            return None
    return {"Fn::Sub": "".join(rendered)}


def render_role_arns_as_sub(pipeline: codepipeline.Pipeline) -> None:
    """Call once every stage is added (after `CodePipeline.build_pipeline()`)."""
    cfn = pipeline.node.default_child
    assert isinstance(cfn, codepipeline.CfnPipeline)
    # Resolved L1 properties keep the L1's camelCase keys; `configuration` is passed through as-is.
    stages = Stack.of(cfn).resolve(cfn.stages)
    for i, stage in enumerate(stages):
        for j, action in enumerate(stage.get("actions", [])):
            sub = join_as_sub((action.get("configuration") or {}).get("RoleArn"))
            if sub:
                cfn.add_property_override(f"Stages.{i}.Actions.{j}.Configuration.RoleArn", sub)
