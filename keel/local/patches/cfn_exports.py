"""Cross-stack exports: `Fn::ImportValue` resolves against the region's live export table.

moto gives each stack a snapshot of the exports taken when the stack object was built (none at all for
stacks created through change sets, and a detached empty dict when there were no exports yet), so every
CDK cross-stack reference failed with "No export named ...". The helpers here also keep the export table
in step when change sets create/update stacks and tell which stacks import an export.
"""

from __future__ import annotations

import json
from typing import Any

from moto.cloudformation.exceptions import ValidationError
from moto.cloudformation.models import CloudFormationBackend, Stack, cloudformation_backends
from moto.cloudformation.parsing import Export, ResourceMap

from keel.local.extensions import Extension


def _live_exports(self: ResourceMap) -> dict[str, Export]:
    return cloudformation_backends[self._account_id][self._region_name].exports


def _ignore(_self: ResourceMap, _value: Any) -> None:
    return None


def stack_exports(backend: CloudFormationBackend, stack: Stack) -> list[str]:
    return [name for name, export in backend.exports.items() if export.exporting_stack_id == stack.stack_id]


def importers(backend: CloudFormationBackend, export_name: str, *, excluding: str = "") -> list[str]:
    """Names of live stacks whose template imports `export_name` (CDK writes the names literally)."""
    needle = json.dumps({"Fn::ImportValue": export_name})
    return [
        stack.name
        for stack in backend.stacks.values()
        if stack.stack_id != excluding
        and stack.status not in ("DELETE_COMPLETE", "REVIEW_IN_PROGRESS")
        and needle in json.dumps(stack.template_dict)
    ]


def refresh_exports(backend: CloudFormationBackend, stack: Stack) -> None:
    """Make the export table hold exactly `stack`'s current exports (after a create or update)."""
    new = {export.name: export for export in stack.exports}
    for name in stack_exports(backend, stack):
        if name not in new:
            in_use = importers(backend, name, excluding=stack.stack_id)
            if in_use:
                raise ValidationError(
                    message=f"Cannot delete export {name} as it is in use by {', '.join(in_use)}"
                )
            del backend.exports[name]
    for name, export in new.items():
        current = backend.exports.get(name)
        if current is not None and current.exporting_stack_id != stack.stack_id:
            raise ValidationError(
                message=f"Export with name {name} is already exported by stack {current.exporting_stack_id}"
            )
        backend.exports[name] = export


def install() -> None:
    ResourceMap.cross_stack_resources = property(_live_exports, _ignore)  # type: ignore[assignment]


EXTENSION = Extension(
    name="cfn-live-exports",
    kind="fix",
    what="Fn::ImportValue reads the region's live export table; change-set deploys register, update "
    "and (when unused) remove their stack's exports",
    why='every CDK cross-stack reference failed with "No export named ..." on change-set deploys',
    upstream=True,
    install=install,
)
