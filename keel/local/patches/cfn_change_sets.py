"""CloudFormation change sets the way the CDK CLI drives them (create → describe → execute → delete).

What moto got wrong, each fixed here:
- change sets were looked up by name across all stacks (the CDK uses one name for every stack), and
  listed across all stacks;
- DescribeChangeSet of an unknown set answered ValidationError (AWS: ChangeSetNotFound), DeleteChangeSet
  answered HTTP 500 (AWS: success while the stack exists), which broke `cdk diff` and every update;
- `UsePreviousValue` took the *resolved* value of SSM-typed parameters (BootstrapVersion "30" instead of
  its parameter name), so every update of a CDK stack failed;
- executing a CREATE set never built the stack's outputs or registered its exports, and an UPDATE left
  the export table stale; executed sets stayed around (AWS deletes all sets of the stack);
- a failing execution answered HTTP 500 and left the stack half-created; AWS reports the failure in the
  stack status and events (ROLLBACK_COMPLETE / UPDATE_ROLLBACK_COMPLETE), which the CDK prints;
- a CREATE set for a stack left in REVIEW_IN_PROGRESS made a second stack of the same name.
"""

from __future__ import annotations

from typing import Any

from moto.cloudformation.exceptions import AlreadyExistsException, CloudFormationError, ValidationError
from moto.cloudformation.models import ChangeSet, CloudFormationBackend, Stack
from moto.cloudformation.responses import CloudFormationResponse
from moto.cloudformation.utils import generate_changeset_id, generate_stack_id, validate_create_change_set
from moto.core.responses import ActionResult, EmptyResult

from keel.local.extensions import Extension
from keel.local.patches.cfn_create_stack import create_resources, fail
from keel.local.patches.cfn_exports import importers, refresh_exports, stack_exports
from keel.local.patches.cfn_lazy_resources import forget_definitions

NO_CHANGES = (
    "The submitted information didn't contain changes. Submit different information to create a change set."
)


class ChangeSetNotFoundError(CloudFormationError):
    code = "ChangeSetNotFoundException"

    def __init__(self, name: str):
        super().__init__(f"ChangeSet [{name}] does not exist")


class InvalidChangeSetStatusError(CloudFormationError):
    code = "InvalidChangeSetStatusException"


# -- lookups ------------------------------------------------------------------------------------------
def live_stack(backend: CloudFormationBackend, name_or_id: str | None) -> Stack | None:
    for stack in backend.stacks.values():
        if name_or_id in (stack.name, stack.stack_id):
            return stack
    return None


def find_change_set(
    backend: CloudFormationBackend, name_or_arn: str, stack_name: str | None
) -> ChangeSet | None:
    if name_or_arn in backend.change_sets:
        return backend.change_sets[name_or_arn]
    stack = live_stack(backend, stack_name) if stack_name else None
    if stack_name and stack is None:
        return None
    matches = [
        change_set
        for change_set in backend.change_sets.values()
        if change_set.change_set_name == name_or_arn
        and (stack is None or change_set.stack_id == stack.stack_id)
    ]
    return matches[-1] if matches else None


def require_change_set(backend: CloudFormationBackend, name_or_arn: str, stack_name: str | None) -> ChangeSet:
    change_set = find_change_set(backend, name_or_arn, stack_name)
    if change_set is None:
        raise ChangeSetNotFoundError(name_or_arn)
    return change_set


# -- backend operations ------------------------------------------------------------------------------
def create_change_set(
    self: CloudFormationBackend,
    stack_name: str,
    change_set_name: str,
    template: str,
    parameters: dict[str, str],
    description: str,
    change_set_type: str,
    notification_arns: list[str] | None = None,
    tags: dict[str, str] | None = None,
    role_arn: str | None = None,
) -> tuple[str, str]:
    validate_create_change_set(change_set_name)
    stack = live_stack(self, stack_name)
    if change_set_type == "UPDATE":
        if stack is None or stack.status == "REVIEW_IN_PROGRESS":
            raise ValidationError(stack_name)
        if stack.status == "ROLLBACK_COMPLETE":  # a failed creation can only be deleted
            raise ValidationError(
                message=f"Stack:{stack.stack_id} is in ROLLBACK_COMPLETE state and can not be updated."
            )
    elif change_set_type == "CREATE":
        if stack is not None and stack.status != "REVIEW_IN_PROGRESS":
            raise AlreadyExistsException(f"Stack [{stack_name}] already exists")
        if stack is None:  # AWS reuses a stack that is still in REVIEW_IN_PROGRESS
            stack = Stack(  # type: ignore[abstract]
                stack_id=generate_stack_id(stack_name, self.region_name, self.account_id),
                name=stack_name,
                template={},
                parameters=parameters,
                account_id=self.account_id,
                region_name=self.region_name,
                notification_arns=notification_arns,
                tags=tags,
                role_arn=role_arn,
            )
            self.stacks[stack.stack_id] = stack
            stack.status = "REVIEW_IN_PROGRESS"
            stack._add_stack_event("REVIEW_IN_PROGRESS", resource_status_reason="User Initiated")
    else:
        raise ValidationError(message=f"ChangeSetType {change_set_type} is not supported locally")
    if find_change_set(self, change_set_name, stack.stack_id) is not None:
        raise AlreadyExistsException(f"ChangeSet [{change_set_name}] already exists")

    change_set = ChangeSet(
        change_set_type=change_set_type,
        change_set_id=generate_changeset_id(change_set_name, self.region_name, self.account_id),
        change_set_name=change_set_name,
        stack=stack,
        template=template,
        parameters=parameters,
        description=description,
        notification_arns=notification_arns,
        tags=tags,
        role_arn=role_arn,
    )
    if change_set_type == "UPDATE" and stack.has_template(template) and stack.has_parameters(parameters):
        change_set.status, change_set.execution_status = "FAILED", "UNAVAILABLE"
        change_set.status_reason = NO_CHANGES
    else:
        change_set.status, change_set.execution_status = "CREATE_COMPLETE", "AVAILABLE"
    self.change_sets[change_set.change_set_id] = change_set
    return change_set.change_set_id, stack.stack_id


def describe_change_set(
    self: CloudFormationBackend, change_set_name: str, stack_name: str | None = None
) -> ChangeSet:
    return require_change_set(self, change_set_name, stack_name)


def delete_change_set(
    self: CloudFormationBackend, change_set_name: str, stack_name: str | None = None
) -> None:
    if stack_name and live_stack(self, stack_name) is None:
        raise ValidationError(stack_name)
    change_set = find_change_set(self, change_set_name, stack_name)
    if change_set is not None:  # deleting an unknown set of an existing stack succeeds, as in AWS
        del self.change_sets[change_set.change_set_id]


def list_change_sets(self: CloudFormationBackend, stack_name: str | None = None) -> list[ChangeSet]:
    stack = live_stack(self, stack_name) if stack_name else None
    if stack_name and stack is None:
        raise ValidationError(stack_name)
    return [cs for cs in self.change_sets.values() if stack is None or cs.stack_id == stack.stack_id]


def _execute_create(backend: CloudFormationBackend, stack: Stack, change_set: ChangeSet) -> None:
    stack.template = change_set.template
    stack._parse_template()
    stack.description = stack.template_dict.get("Description")
    stack.parameters = change_set.parameters
    if change_set.tags:
        stack.tags = change_set.tags
    stack._add_stack_event("CREATE_IN_PROGRESS", resource_status_reason="User Initiated")
    try:
        stack.resource_map = stack._create_resource_map()
        stack.output_map = stack._create_output_map()
    except Exception as error:  # nothing was created yet: nothing to roll back
        fail(stack, "CREATE_FAILED", "ROLLBACK_COMPLETE", error)
        forget_definitions(stack)
        return
    create_resources(backend, stack)


def _check_removed_exports(backend: CloudFormationBackend, stack: Stack, template: dict[str, Any]) -> None:
    kept = {
        output["Export"]["Name"]
        for output in (template.get("Outputs") or {}).values()
        if isinstance(output.get("Export", {}).get("Name"), str)
    }
    for name in stack_exports(backend, stack):
        in_use = importers(backend, name, excluding=stack.stack_id)
        if name not in kept and in_use:
            raise ValidationError(
                message=f"Cannot delete export {name} as it is in use by {', '.join(in_use)}"
            )


def _execute_update(backend: CloudFormationBackend, stack: Stack, change_set: ChangeSet) -> None:
    _check_removed_exports(backend, stack, change_set.template_dict)
    try:
        stack.update(
            change_set.template,
            role_arn=change_set.role_arn,
            parameters=change_set.parameters,
            tags=change_set.tags,
        )
        if hasattr(stack, "status_reason"):
            stack.status_reason = None
        refresh_exports(backend, stack)
    except Exception as error:
        fail(stack, "UPDATE_FAILED", "UPDATE_ROLLBACK_COMPLETE", error)


def execute_change_set(
    self: CloudFormationBackend, change_set_name: str, stack_name: str | None = None
) -> None:
    change_set = require_change_set(self, change_set_name, stack_name)
    if change_set.execution_status != "AVAILABLE":
        raise InvalidChangeSetStatusError(
            f"ChangeSet [{change_set.change_set_id}] cannot be executed in its current status "
            f"of [{change_set.status}]"
        )
    stack = self.stacks[change_set.stack_id]
    if change_set.change_set_type == "CREATE":
        _execute_create(self, stack, change_set)
    else:
        _execute_update(self, stack, change_set)
    change_set.execution_status = "EXECUTE_COMPLETE"
    # AWS deletes every change set of a stack once one of them has been executed.
    for arn in [arn for arn, cs in self.change_sets.items() if cs.stack_id == stack.stack_id]:
        del self.change_sets[arn]


# -- request handlers ---------------------------------------------------------------------------------
def _parameters(self: CloudFormationResponse, stack: Stack | None) -> dict[str, Any]:
    """Input parameter values; `UsePreviousValue` takes the previous *input* (e.g. an SSM parameter name)."""
    parameters: dict[str, Any] = {}
    for parameter in self._get_param("Parameters", []):
        key = parameter["ParameterKey"]
        if parameter.get("UsePreviousValue"):
            if stack is not None and key in stack.parameters:
                parameters[key] = stack.parameters[key]
            # else the previous value was the template default, which applies again
        else:
            parameters[key] = parameter["ParameterValue"]
    return parameters


def handle_create_change_set(self: CloudFormationResponse) -> ActionResult:
    stack_name = self._get_param("StackName")
    change_set_type = self._get_param("ChangeSetType", "CREATE")
    body = self._get_param("TemplateBody")
    stack = live_stack(self.cloudformation_backend, stack_name)
    if change_set_type == "UPDATE":
        self.validate_template_and_stack_body()
        if stack is not None and self._get_bool_param("UsePreviousTemplate", False):
            body = stack.template
    if self._get_param("TemplateURL"):
        body = self._get_stack_from_s3_url(self._get_param("TemplateURL"))
    change_set_id, stack_id = self.cloudformation_backend.create_change_set(
        stack_name=stack_name,
        change_set_name=self._get_param("ChangeSetName"),
        template=body,
        parameters=_parameters(self, stack),
        description=self._get_param("Description"),
        notification_arns=self._get_param("NotificationARNs", []),
        tags={item["Key"]: item["Value"] for item in self._get_param("Tags", [])},
        role_arn=self._get_param("RoleARN"),
        change_set_type=change_set_type,
    )
    return ActionResult({"Id": change_set_id, "StackId": stack_id})


def handle_describe_change_set(self: CloudFormationResponse) -> ActionResult:
    return ActionResult(
        describe_change_set(
            self.cloudformation_backend, self._get_param("ChangeSetName"), self._get_param("StackName")
        )
    )


def handle_delete_change_set(self: CloudFormationResponse) -> EmptyResult:
    delete_change_set(
        self.cloudformation_backend, self._get_param("ChangeSetName"), self._get_param("StackName")
    )
    return EmptyResult()


def handle_execute_change_set(self: CloudFormationResponse) -> EmptyResult:
    self.cloudformation_backend.execute_change_set(
        self._get_param("ChangeSetName"), self._get_param("StackName")
    )
    return EmptyResult()


def handle_list_change_sets(self: CloudFormationResponse) -> ActionResult:
    return ActionResult(
        {"Summaries": list_change_sets(self.cloudformation_backend, self._get_param("StackName"))}
    )


def install() -> None:
    CloudFormationBackend.create_change_set = create_change_set  # type: ignore[method-assign]
    CloudFormationBackend.describe_change_set = describe_change_set  # type: ignore[method-assign]
    CloudFormationBackend.delete_change_set = delete_change_set  # type: ignore[method-assign]
    CloudFormationBackend.execute_change_set = execute_change_set  # type: ignore[method-assign]
    CloudFormationBackend.list_change_sets = list_change_sets  # type: ignore[method-assign]
    CloudFormationResponse.create_change_set = handle_create_change_set  # type: ignore[method-assign]
    CloudFormationResponse.describe_change_set = handle_describe_change_set  # type: ignore[method-assign]
    CloudFormationResponse.delete_change_set = handle_delete_change_set  # type: ignore[method-assign]
    CloudFormationResponse.execute_change_set = handle_execute_change_set  # type: ignore[method-assign]
    CloudFormationResponse.list_change_sets = handle_list_change_sets  # type: ignore[method-assign]


EXTENSION = Extension(
    name="cfn-change-sets",
    kind="fix",
    what="change sets scoped to their stack (create/describe/execute/delete/list); ChangeSetNotFound "
    "and idempotent DeleteChangeSet; UsePreviousValue keeps SSM parameter names; CREATE sets build "
    "outputs and exports; executed sets are removed; failures become ROLLBACK_COMPLETE / "
    "UPDATE_ROLLBACK_COMPLETE with the reason in the events",
    why="the CDK CLI deploys only through change sets: cross-stack refs, `cdk diff` and every update "
    "of an existing stack failed",
    upstream=True,
    install=install,
)
