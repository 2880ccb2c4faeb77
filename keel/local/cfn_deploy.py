"""Deploy a raw CloudFormation template into the local server the way the CDK does: through a change set.

For tests and tools that need a stack without a CDK app. Failures raise `StackError` with the reason
CloudFormation recorded (stack status reason or the failed events).
"""

from __future__ import annotations

import json
import uuid
from typing import Any

NO_CHANGES = "didn't contain changes"
CAPABILITIES = ["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM", "CAPABILITY_AUTO_EXPAND"]


class StackError(RuntimeError):
    def __init__(self, stack_name: str, status: str, reason: str):
        super().__init__(f"{stack_name}: {status}: {reason}")
        self.stack_name, self.status, self.reason = stack_name, status, reason


def find_stack(cfn: Any, stack_name: str) -> dict[str, Any] | None:
    try:
        stacks = cfn.describe_stacks(StackName=stack_name)["Stacks"]
    except cfn.exceptions.ClientError as error:
        if "does not exist" in str(error):
            return None
        raise
    stack: dict[str, Any] = stacks[0]
    return None if stack["StackStatus"] in ("DELETE_COMPLETE", "REVIEW_IN_PROGRESS") else stack


def _failure_reason(cfn: Any, stack: dict[str, Any]) -> str:
    events = cfn.describe_stack_events(StackName=stack["StackId"])["StackEvents"]
    failed = [e.get("ResourceStatusReason", "") for e in events if "FAILED" in e["ResourceStatus"]]
    return stack.get("StackStatusReason") or (failed[0] if failed else "no reason recorded")


def deploy(
    cfn: Any, stack_name: str, template: dict[str, Any], parameters: dict[str, str] | None = None
) -> dict[str, Any]:
    """Create or update `stack_name`; returns the stack as DescribeStacks reports it."""
    change_type = "UPDATE" if find_stack(cfn, stack_name) else "CREATE"
    name = f"keel-{uuid.uuid4().hex[:12]}"
    cfn.create_change_set(
        StackName=stack_name,
        ChangeSetName=name,
        ChangeSetType=change_type,
        TemplateBody=json.dumps(template),
        Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in (parameters or {}).items()],
        Capabilities=CAPABILITIES,
    )
    change_set = cfn.describe_change_set(StackName=stack_name, ChangeSetName=name)
    if change_set["Status"] == "FAILED":
        cfn.delete_change_set(StackName=stack_name, ChangeSetName=name)
        if NO_CHANGES in change_set.get("StatusReason", ""):
            stack: dict[str, Any] = cfn.describe_stacks(StackName=stack_name)["Stacks"][0]
            return stack
        raise StackError(stack_name, "change set FAILED", change_set.get("StatusReason", ""))
    cfn.execute_change_set(StackName=stack_name, ChangeSetName=name)
    stack = cfn.describe_stacks(StackName=change_set["StackId"])["Stacks"][0]
    if stack["StackStatus"] not in ("CREATE_COMPLETE", "UPDATE_COMPLETE"):
        raise StackError(stack_name, stack["StackStatus"], _failure_reason(cfn, stack))
    return stack


def delete(cfn: Any, stack_name: str) -> None:
    stack = find_stack(cfn, stack_name)
    if stack is None:
        return
    cfn.delete_stack(StackName=stack["StackId"])
    after = cfn.describe_stacks(StackName=stack["StackId"])["Stacks"][0]
    if after["StackStatus"] != "DELETE_COMPLETE":
        raise StackError(stack_name, after["StackStatus"], _failure_reason(cfn, after))


def outputs(stack: dict[str, Any]) -> dict[str, str]:
    return {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs") or []}
