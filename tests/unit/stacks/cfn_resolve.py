"""Resolve the CloudFormation intrinsics in synthesized policy documents to plausible literal values.

Good enough for an IAM lint, not for deployment: a resource's physical name is its literal name property when
it has one, else its logical id in lower case, and ARNs are built from the resource type's documented ARN
format, so that a linter can check that each ARN's shape fits the actions it is granted for. An intrinsic or
an attribute this module does not know raises: a new kind of reference is noticed, not silently skipped.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# A CloudFormation-generated id stands in for the parts of an ARN CloudFormation (or the service) generates.
GENERATED_ID = "00000000-0000-0000-0000-000000000000"
STREAM_LABEL = "2026-01-01T00:00:00.000"

# Per resource type: the property naming the resource, Ref's value, and the ARN of `Fn::GetAtt [id, Arn]`.
# Formats take {p}artition, {r}egion, {a}ccount and {n}ame.
_NAME_PROPERTY = {
    "AWS::S3::Bucket": "BucketName",
    "AWS::SNS::Topic": "TopicName",
    "AWS::SQS::Queue": "QueueName",
    "AWS::Lambda::Function": "FunctionName",
    "AWS::IAM::Role": "RoleName",
    "AWS::DynamoDB::Table": "TableName",
    "AWS::Kinesis::Stream": "Name",
    "AWS::Logs::LogGroup": "LogGroupName",
    "AWS::SageMaker::ModelPackageGroup": "ModelPackageGroupName",
    "AWS::SageMaker::Pipeline": "PipelineName",
    "AWS::Events::Rule": "Name",
    "AWS::CloudTrail::Trail": "TrailName",
    "AWS::Glue::Database": "DatabaseName",
}
_ARN = {
    "AWS::S3::Bucket": "arn:{p}:s3:::{n}",
    "AWS::KMS::Key": "arn:{p}:kms:{r}:{a}:key/" + GENERATED_ID,
    "AWS::SNS::Topic": "arn:{p}:sns:{r}:{a}:{n}",
    "AWS::SQS::Queue": "arn:{p}:sqs:{r}:{a}:{n}",
    "AWS::Lambda::Function": "arn:{p}:lambda:{r}:{a}:function:{n}",
    "AWS::IAM::Role": "arn:{p}:iam::{a}:role/{n}",
    "AWS::DynamoDB::Table": "arn:{p}:dynamodb:{r}:{a}:table/{n}",
    "AWS::Kinesis::Stream": "arn:{p}:kinesis:{r}:{a}:stream/{n}",
    "AWS::Logs::LogGroup": "arn:{p}:logs:{r}:{a}:log-group:{n}:*",
    "AWS::SageMaker::ModelPackageGroup": "arn:{p}:sagemaker:{r}:{a}:model-package-group/{n}",
    "AWS::SageMaker::Pipeline": "arn:{p}:sagemaker:{r}:{a}:pipeline/{n}",
    "AWS::Events::Rule": "arn:{p}:events:{r}:{a}:rule/{n}",
    "AWS::CloudTrail::Trail": "arn:{p}:cloudtrail:{r}:{a}:trail/{n}",
}
_ATTRIBUTES: dict[tuple[str, str], str] = {
    ("AWS::SNS::Topic", "TopicArn"): "arn:{p}:sns:{r}:{a}:{n}",
    ("AWS::SNS::Topic", "TopicName"): "{n}",
    ("AWS::SQS::Queue", "QueueName"): "{n}",
    ("AWS::SQS::Queue", "QueueUrl"): "https://sqs.{r}.queue.invalid/{a}/{n}",  # never in a policy
    ("AWS::DynamoDB::Table", "StreamArn"): "arn:{p}:dynamodb:{r}:{a}:table/{n}/stream/" + STREAM_LABEL,
    ("AWS::KMS::Key", "KeyId"): GENERATED_ID,
    ("AWS::IAM::Role", "RoleId"): "AROA0000000000EXAMPLE",
    ("AWS::SageMaker::ModelPackageGroup", "ModelPackageGroupArn"): _ARN["AWS::SageMaker::ModelPackageGroup"],
}
_REF = {
    "AWS::S3::Bucket": "{n}",
    "AWS::KMS::Key": GENERATED_ID,
    "AWS::SNS::Topic": "arn:{p}:sns:{r}:{a}:{n}",
    "AWS::SQS::Queue": "https://sqs.{r}.queue.invalid/{a}/{n}",
    "AWS::Lambda::Function": "{n}",
    "AWS::IAM::Role": "{n}",
    "AWS::DynamoDB::Table": "{n}",
    "AWS::Kinesis::Stream": "{n}",
    "AWS::Logs::LogGroup": "{n}",
    "AWS::Events::Rule": "{n}",
    "AWS::Glue::Database": "{n}",
    "AWS::SageMaker::ModelPackageGroup": "{n}",
    "AWS::SageMaker::Pipeline": "{n}",
}


class UnresolvableError(ValueError):
    """An intrinsic, reference or attribute the resolver does not know."""


@dataclass(frozen=True)
class StackTemplate:
    name: str
    account: str
    region: str
    partition: str
    template: Mapping[str, Any]


def stack_templates(outdir: Path, partition: str) -> dict[str, StackTemplate]:
    """The stack templates of one cloud assembly, by stack name, with each stack's account and region."""
    manifest = json.loads((outdir / "manifest.json").read_text())
    stacks: dict[str, StackTemplate] = {}
    for artifact_id, artifact in manifest["artifacts"].items():
        if artifact["type"] != "aws:cloudformation:stack":
            continue
        properties = artifact["properties"]
        account, region = artifact["environment"].removeprefix("aws://").split("/")
        name = properties.get("stackName", artifact_id)
        template = json.loads((outdir / properties["templateFile"]).read_text())
        stacks[name] = StackTemplate(name, account, region, partition, template)
    return stacks


class Resolver:
    """Resolves the intrinsics of one stack (`Fn::GetStackOutput`, `Fn::ImportValue`: of the other stacks)."""

    def __init__(self, stack: StackTemplate, stacks: Mapping[str, StackTemplate]) -> None:
        self.stack = stack
        self.stacks = stacks
        self._functions: dict[str, Callable[[Any], Any]] = {
            "Ref": self._ref,
            "Fn::GetAtt": self._get_att,
            "Fn::Join": self._join,
            "Fn::Sub": self._sub,
            "Fn::Select": lambda args: self.resolve(args[1])[int(self.resolve(args[0]))],
            "Fn::Split": lambda args: self.resolve(args[1]).split(args[0]),
            "Fn::GetStackOutput": self._stack_output,
            "Fn::ImportValue": self._import_value,
        }

    def resolve(self, value: Any) -> Any:
        if isinstance(value, list):
            return [self.resolve(item) for item in value]
        if isinstance(value, dict):
            if len(value) == 1:
                ((key, args),) = value.items()
                if key in self._functions:
                    return self._functions[key](args)
                if key.startswith("Fn::") or key == "Condition":
                    raise UnresolvableError(f"{self.stack.name}: intrinsic {key} is not supported")
            return {key: self.resolve(item) for key, item in value.items()}
        return value

    def _format(self, pattern: str, resource_type: str, logical_id: str) -> str:
        stack = self.stack
        return pattern.format(
            p=stack.partition, r=stack.region, a=stack.account, n=self._name(resource_type, logical_id)
        )

    def _name(self, resource_type: str, logical_id: str) -> str:
        resource = self._resource(logical_id)
        name = resource.get("Properties", {}).get(_NAME_PROPERTY.get(resource_type, ""))
        return str(self.resolve(name)) if name is not None else logical_id.lower()

    def _resource(self, logical_id: str) -> Mapping[str, Any]:
        try:
            resource: Mapping[str, Any] = self.stack.template["Resources"][logical_id]
        except KeyError:
            raise UnresolvableError(f"{self.stack.name}: no resource {logical_id}") from None
        return resource

    def _ref(self, name: str) -> str:
        stack = self.stack
        pseudo = {
            "AWS::AccountId": stack.account,
            "AWS::Region": stack.region,
            "AWS::Partition": stack.partition,
            "AWS::URLSuffix": "amazonaws.com",
            "AWS::StackName": stack.name,
        }
        if name in pseudo:
            return pseudo[name]
        parameter = stack.template.get("Parameters", {}).get(name)
        if parameter is not None:
            return str(parameter.get("Default", name))
        resource_type = self._resource(name)["Type"]
        if resource_type not in _REF:
            raise UnresolvableError(f"{stack.name}: Ref of {resource_type} ({name}) is not supported")
        return self._format(_REF[resource_type], resource_type, name)

    def _get_att(self, args: Any) -> str:
        logical_id, attribute = args.split(".", 1) if isinstance(args, str) else args
        resource_type = self._resource(logical_id)["Type"]
        if attribute == "Arn" and resource_type in _ARN:
            pattern = _ARN[resource_type]
        elif (resource_type, attribute) in _ATTRIBUTES:
            pattern = _ATTRIBUTES[(resource_type, attribute)]
        else:
            raise UnresolvableError(f"{self.stack.name}: GetAtt {resource_type}.{attribute} is not supported")
        return self._format(pattern, resource_type, logical_id)

    def _join(self, args: Any) -> str:
        delimiter, items = args
        return str(delimiter).join(str(item) for item in self.resolve(items))

    def _sub(self, args: Any) -> str:
        text, variables = (args, {}) if isinstance(args, str) else (args[0], args[1])
        resolved = {key: self.resolve(value) for key, value in variables.items()}

        def substitute(match: re.Match[str]) -> str:
            name = match.group(1)
            if name.startswith("!"):
                return "${" + name[1:] + "}"
            if name in resolved:
                return str(resolved[name])
            if "." in name:
                return self._get_att(name)
            return self._ref(name)

        return re.sub(r"\$\{([^}]+)\}", substitute, text)

    def _output(self, stack_name: str, output_name: str) -> Any:
        other = self.stacks.get(stack_name)
        if other is None or output_name not in other.template.get("Outputs", {}):
            raise UnresolvableError(f"{self.stack.name}: no output {output_name} in stack {stack_name}")
        return Resolver(other, self.stacks).resolve(other.template["Outputs"][output_name]["Value"])

    def _stack_output(self, args: Mapping[str, Any]) -> Any:
        return self._output(self.resolve(args["StackName"]), self.resolve(args["OutputName"]))

    def _import_value(self, args: Any) -> Any:
        export = self.resolve(args)
        for other in self.stacks.values():
            for output_name, output in other.template.get("Outputs", {}).items():
                if Resolver(other, self.stacks).resolve(output.get("Export", {}).get("Name")) == export:
                    return self._output(other.name, output_name)
        raise UnresolvableError(f"{self.stack.name}: no stack exports {export}")
