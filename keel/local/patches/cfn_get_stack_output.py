"""`Fn::GetStackOutput` (CloudFormation's read of another stack's output, which the CDK writes for weak
cross-stack references): resolved against the named live stack of the same account.

moto does not know the function and left the object in place, e.g. inside an IAM policy, which then
failed as MalformedPolicyDocument.
"""

from __future__ import annotations

from typing import Any

from moto.cloudformation import parsing
from moto.cloudformation.exceptions import ValidationError

from keel.local.extensions import Extension

FUNCTION = "Fn::GetStackOutput"


def resolve(arguments: dict[str, Any], resources_map: Any) -> str:
    from moto.cloudformation.models import cloudformation_backends

    region = arguments.get("Region") or resources_map._region_name
    stack_name, output_name = arguments["StackName"], arguments["OutputName"]
    backend = cloudformation_backends[resources_map._account_id][region]
    for stack in backend.stacks.values():
        if stack.name == stack_name and stack.status not in ("DELETE_COMPLETE", "REVIEW_IN_PROGRESS"):
            for output in stack.outputs or []:
                if output["OutputKey"] == output_name:
                    return str(output["OutputValue"])
            raise ValidationError(message=f"Stack {stack_name} has no output {output_name}")
    raise ValidationError(message=f"Stack {stack_name} does not exist in {region}")


def install() -> None:
    original = parsing.clean_json

    def clean_json(resource_json: Any, resources_map: Any) -> Any:
        if isinstance(resource_json, dict) and FUNCTION in resource_json:
            return resolve(original(resource_json[FUNCTION], resources_map), resources_map)
        return original(resource_json, resources_map)

    # clean_json recurses through the module global, so nested occurrences are resolved too.
    parsing.clean_json = clean_json


EXTENSION = Extension(
    name="cfn-get-stack-output",
    kind="fix",
    what="Fn::GetStackOutput resolves to the named stack's output (same account, any region)",
    why="moto left the function unresolved: the CDK's weak cross-stack references broke IAM policies",
    upstream=True,
    install=install,
)
