"""CreateStack as CloudFormation runs it: resources first, then exports; a failure fails the stack.

moto's CreateStack registered the new stack's exports *before* creating its resources. With stock moto a
Ref/GetAtt in an exported output created the resource lazily; with `cfn_lazy_resources` (no creation on
read) the export was registered with no value, and a second stack's Fn::ImportValue failed ("No export
named ..."). And any error while creating resources (e.g. a custom resource without a local provider)
escaped as HTTP 500 with the stack half created. CloudFormation validates the template synchronously, then
creates resources and reports a failure in the stack: CREATE_FAILED, then (OnFailure=ROLLBACK, the
default) ROLLBACK_COMPLETE after deleting what was created, or DELETE_COMPLETE (OnFailure=DELETE), or it
stays CREATE_FAILED (OnFailure=DO_NOTHING / DisableRollback).
"""

from __future__ import annotations

import contextlib
import logging
from typing import Any, Literal, cast

from moto.cloudformation.exceptions import AlreadyExistsException, ValidationError
from moto.cloudformation.models import CloudFormationBackend, Stack
from moto.cloudformation.parsing import clean_json
from moto.cloudformation.responses import CloudFormationResponse
from moto.cloudformation.utils import generate_stack_id
from moto.core.responses import ActionResult

from keel.local.extensions import Extension
from keel.local.patches.cfn_exports import refresh_exports, stack_exports
from keel.local.patches.cfn_lazy_resources import forget_definitions

LOG = logging.getLogger("keel.local")
OnFailure = Literal["ROLLBACK", "DELETE", "DO_NOTHING"]


def fail(stack: Stack, resource_status: str, stack_status: str, error: Exception) -> None:
    """Record a failure as CloudFormation does: a FAILED event with the reason, then the stack status."""
    LOG.warning("stack %s: %s: %s", stack.name, resource_status, error)
    stack._add_stack_event(resource_status, resource_status_reason=str(error))
    stack.status = stack_status
    stack.status_reason = str(error)  # type: ignore[attr-defined] # serialized as StackStatusReason
    if stack_status != resource_status:
        stack._add_stack_event(stack_status)


def _roll_back(stack: Stack) -> bool:
    """Delete what a failed creation created; False (ROLLBACK_FAILED) if that fails too."""
    try:
        stack.resource_map.delete()
    except Exception as error:
        stack.status = "ROLLBACK_FAILED"
        stack._add_stack_event("ROLLBACK_FAILED", resource_status_reason=str(error))
        return False
    forget_definitions(stack)
    return True


def create_resources(
    backend: CloudFormationBackend, stack: Stack, on_failure: OnFailure = "ROLLBACK"
) -> None:
    """Create `stack`'s resources, then register its exports (their values exist only now)."""
    try:
        stack.create_resources()
        refresh_exports(backend, stack)
    except Exception as error:
        if on_failure == "DO_NOTHING":
            fail(stack, "CREATE_FAILED", "CREATE_FAILED", error)
            return
        cleanup = "DELETE_IN_PROGRESS" if on_failure == "DELETE" else "ROLLBACK_IN_PROGRESS"
        fail(stack, "CREATE_FAILED", cleanup, error)
        for name in stack_exports(backend, stack):  # registered before a later export name clashed
            del backend.exports[name]
        if not _roll_back(stack):
            return
        if on_failure == "DELETE":
            stack.status = "DELETE_COMPLETE"
            stack._add_stack_event("DELETE_COMPLETE")
            del backend.stacks[stack.stack_id]
            backend.deleted_stacks[stack.stack_id] = stack
        else:
            stack.status = "ROLLBACK_COMPLETE"
            stack._add_stack_event("ROLLBACK_COMPLETE")


def _export_names(stack: Stack) -> list[str]:
    """The export names that resolve before any resource exists (values do not, so moto's check fails)."""
    names = []
    for output in (stack.template_dict.get("Outputs") or {}).values():
        name = (output.get("Export") or {}).get("Name") if isinstance(output, dict) else None
        resolved = None
        with contextlib.suppress(Exception):  # a name built from a resource is checked after creation
            resolved = clean_json(name, stack.resource_map) if name is not None else None
        if resolved is not None:
            names.append(str(resolved))
    return names


def create_stack(
    self: CloudFormationBackend,
    name: str,
    template: str,
    parameters: dict[str, Any],
    notification_arns: list[str] | None = None,
    tags: dict[str, str] | None = None,
    role_arn: str | None = None,
    enable_termination_protection: bool | None = False,
    timeout_in_mins: int | None = None,
    stack_policy_body: str | None = None,
    on_failure: OnFailure = "ROLLBACK",
) -> Stack:
    if name in [stack.name for stack in self.stacks.values()]:
        raise AlreadyExistsException(f"Stack [{name}] already exists")
    stack = Stack(  # type: ignore[abstract] # template errors are raised here, synchronously
        stack_id=generate_stack_id(name, self.region_name, self.account_id),
        name=name,
        template=template,
        parameters=parameters,
        account_id=self.account_id,
        region_name=self.region_name,
        notification_arns=notification_arns,
        tags=tags,
        role_arn=role_arn,
        enable_termination_protection=enable_termination_protection,
        timeout_in_mins=timeout_in_mins,
        stack_policy_body=stack_policy_body,
    )
    taken = [name for name in _export_names(stack) if name in self.exports]
    if taken:
        raise ValidationError(message=f"Export with name {taken[0]} is already exported by another stack")
    self.stacks[stack.stack_id] = stack
    stack._add_stack_event("CREATE_IN_PROGRESS", resource_status_reason="User Initiated")
    create_resources(self, stack, on_failure)
    return stack


def _on_failure(response: CloudFormationResponse) -> OnFailure:
    on_failure = response._get_param("OnFailure")
    disable_rollback = response._get_bool_param("DisableRollback", False)
    if on_failure and disable_rollback:
        raise ValidationError(message="You cannot specify both OnFailure and DisableRollback")
    if disable_rollback:
        return "DO_NOTHING"
    if on_failure is None:
        return "ROLLBACK"
    if on_failure in ("ROLLBACK", "DELETE", "DO_NOTHING"):
        return cast(OnFailure, on_failure)
    raise ValidationError(message=f"Invalid OnFailure value: {on_failure}")


def handle_create_stack(self: CloudFormationResponse) -> ActionResult:
    body = self._get_param("TemplateBody")
    if self._get_param("TemplateURL"):
        body = self._get_stack_from_s3_url(self._get_param("TemplateURL"))
    stack = create_stack(
        self.cloudformation_backend,
        name=self._get_param("StackName"),
        template=body,
        parameters=self._get_params_from_list(self._get_param("Parameters", [])),
        notification_arns=self._get_param("NotificationARNs", []),
        tags={item["Key"]: item["Value"] for item in self._get_param("Tags", [])},
        role_arn=self._get_param("RoleARN"),
        enable_termination_protection=self._get_param("EnableTerminationProtection"),
        timeout_in_mins=self._get_param("TimeoutInMinutes"),
        stack_policy_body=self._get_param("StackPolicyBody"),
        on_failure=_on_failure(self),
    )
    return ActionResult({"StackId": stack.stack_id})


def install() -> None:
    CloudFormationBackend.create_stack = create_stack  # type: ignore[method-assign]
    CloudFormationResponse.create_stack = handle_create_stack  # type: ignore[method-assign]


EXTENSION = Extension(
    name="cfn-create-stack",
    kind="fix",
    what="CreateStack creates the resources before it registers the exports (with their values); a "
    "failure while creating fails the stack: CREATE_FAILED with the reason, then rolled back "
    "(ROLLBACK_COMPLETE) or as OnFailure/DisableRollback ask",
    why="exported Ref/GetAtt outputs were registered without a value (Fn::ImportValue in the next stack "
    'failed: "No export named ..."), and a failing resource answered HTTP 500 with the stack half created',
    upstream=True,
    install=install,
)
