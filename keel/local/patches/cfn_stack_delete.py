"""DeleteStack as CloudFormation does it.

- a deleted stack keeps no resource or output definitions (see `cfn_lazy_resources`);
- a stack whose exports are imported by another stack cannot be deleted (ValidationError);
- a resource that cannot be deleted (e.g. a non-empty bucket) leaves the stack DELETE_FAILED with the
  reason in its events, instead of an HTTP 500 with the stack half gone;
- deleting a stack that does not exist succeeds, as in AWS.
"""

from __future__ import annotations

from moto.cloudformation.exceptions import ValidationError
from moto.cloudformation.models import CloudFormationBackend

from keel.local.extensions import Extension
from keel.local.patches.cfn_change_sets import live_stack
from keel.local.patches.cfn_exports import importers, stack_exports
from keel.local.patches.cfn_lazy_resources import forget_definitions


def delete_stack(self: CloudFormationBackend, name_or_stack_id: str) -> None:
    stack = live_stack(self, name_or_stack_id)
    if stack is None:
        return
    for name in stack_exports(self, stack):
        in_use = importers(self, name, excluding=stack.stack_id)
        if in_use:
            raise ValidationError(
                message=f"Export {name} cannot be deleted as it is in use by {', '.join(in_use)}"
            )
    stack._add_stack_event("DELETE_IN_PROGRESS", resource_status_reason="User Initiated")
    try:
        stack.resource_map.delete()
    except Exception as error:
        stack._add_stack_event("DELETE_FAILED", resource_status_reason=str(error))
        stack.status = "DELETE_FAILED"
        stack.status_reason = str(error)  # type: ignore[attr-defined]
        return
    for name in stack_exports(self, stack):
        del self.exports[name]
    for arn in [arn for arn, cs in self.change_sets.items() if cs.stack_id == stack.stack_id]:
        del self.change_sets[arn]
    stack._add_stack_event("DELETE_COMPLETE")
    stack.status = "DELETE_COMPLETE"
    forget_definitions(stack)
    del self.stacks[stack.stack_id]
    self.deleted_stacks[stack.stack_id] = stack


def install() -> None:
    CloudFormationBackend.delete_stack = delete_stack  # type: ignore[method-assign]


EXTENSION = Extension(
    name="cfn-stack-delete",
    kind="fix",
    what="DeleteStack: imported exports block deletion; a resource that cannot be deleted leaves the "
    "stack DELETE_FAILED with the reason; unknown stack → success; deleted stacks keep no definitions",
    why="moto answered HTTP 500 and left the stack half deleted, and removed exports still in use",
    upstream=True,
    install=install,
)
