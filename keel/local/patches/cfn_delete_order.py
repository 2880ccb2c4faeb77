"""Stack resources are deleted in reverse dependency order, as CloudFormation does.

moto deleted them in set order (random per process) and retried failures, so a resource could outlive
what it depends on: e.g. the Macie session went before the classification job that needs it, whose
provider then failed, leaving the stack DELETE_FAILED now and then. Dependencies are `DependsOn` plus
every `Ref`, `Fn::GetAtt` and `Fn::Sub` reference between resources of the template.
"""

from __future__ import annotations

import re
from typing import Any

from moto.cloudformation.parsing import ResourceMap

from keel.local.extensions import Extension

_SUB_REFERENCE = re.compile(r"\$\{([A-Za-z0-9]+)(?:\.[^}]*)?\}")


def references(node: Any) -> set[str]:
    """Logical ids that `node` (a piece of a resource definition) refers to."""
    found: set[str] = set()
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "Ref" and isinstance(value, str):
                found.add(value)
            elif key == "Fn::GetAtt":
                target = value[0] if isinstance(value, list) else str(value).split(".", 1)[0]
                found.add(str(target))
            elif key == "Fn::Sub":
                template = value[0] if isinstance(value, list) else value
                found.update(_SUB_REFERENCE.findall(str(template)))
            found.update(references(value))
    elif isinstance(node, list):
        for item in node:
            found.update(references(item))
    return found


def dependencies(definitions: dict[str, Any]) -> dict[str, set[str]]:
    result = {}
    for name, definition in definitions.items():
        depends_on = definition.get("DependsOn", [])
        declared = {depends_on} if isinstance(depends_on, str) else set(depends_on)
        result[name] = (declared | references(definition.get("Properties", {}))) & set(definitions) - {name}
    return result


def deletion_order(definitions: dict[str, Any], names: list[str]) -> list[str]:
    """`names` with dependents before what they depend on (cycles keep their given order)."""
    depends, remaining, ordered = dependencies(definitions), list(names), []
    while remaining:
        ready = [n for n in remaining if not any(n in depends[o] for o in remaining if o != n)] or remaining[
            :1
        ]
        ordered += ready
        remaining = [n for n in remaining if n not in ready]
    return ordered


def delete(self: ResourceMap) -> None:
    definitions = self._resource_json_map
    depends = dependencies(definitions)
    remaining = [name for name, d in definitions.items() if d.get("DeletionPolicy") != "Retain"]
    last_error: Exception | None = None
    while remaining:
        # Deletable now: what nothing remaining depends on (everything, if only a cycle is left).
        ready = [n for n in remaining if not any(n in depends[o] for o in remaining if o != n)] or list(
            remaining
        )
        progress = False
        for name in ready:
            resource = self._parsed_resources.get(name)
            try:
                if resource is not None and not isinstance(resource, str):
                    self._delete_resource(resource, definitions[name])
                    self._parsed_resources.pop(name, None)
            except Exception as error:
                last_error = error  # what depends on nothing else may still go; this one stays
                continue
            remaining.remove(name)
            progress = True
        if not progress:
            raise last_error or RuntimeError(f"cannot delete {', '.join(remaining)}")


def install() -> None:
    original_diff = ResourceMap.build_resource_diff

    def build_resource_diff(self: ResourceMap, *args: Any, **kwargs: Any) -> dict[str, Any]:
        diff: dict[str, Any] = original_diff(self, *args, **kwargs)
        diff["Remove"] = deletion_order(
            self._resource_json_map, diff["Remove"]
        )  # updates remove in order too
        return diff

    ResourceMap.delete = delete  # type: ignore[method-assign]
    ResourceMap.build_resource_diff = build_resource_diff  # type: ignore[method-assign]


EXTENSION = Extension(
    name="cfn-delete-order",
    kind="fix",
    what="stack deletion, rollback and resources removed by an update go in reverse dependency order "
    "(DependsOn, Ref, Fn::GetAtt, Fn::Sub)",
    why="moto's random order deleted e.g. the Macie session before the job that needs it: random "
    "DELETE_FAILED",
    upstream=True,
    install=install,
)
