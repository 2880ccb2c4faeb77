"""Stack resources are created only while a stack is being created or updated, never by a read.

moto's resource map creates a resource the first time anything looks it up, and outputs are evaluated
lazily on DescribeStacks. So reading a stack whose resources are gone (deleted, rolled back, or never
created because creation failed) silently created them again: after `cdk destroy`, describing the
deleted stack brought back the bucket, key and topic its outputs referenced. Outside create/update a
lookup now answers "not created" (None), and stack resource listings skip resources that do not exist.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from moto.cloudformation.models import Stack
from moto.cloudformation.parsing import OutputMap, ResourceMap

from keel.local.extensions import Extension

_BUILDING = "_keel_building"


def forget_definitions(stack: Stack) -> None:
    """For a stack that has no resources any more (deleted, rolled back): no resources, no outputs."""
    stack.resource_map._resource_json_map = {}
    stack.output_map = OutputMap(stack.resource_map, {"Resources": {}, "Outputs": {}}, stack.stack_id)


def _building(operation: Callable[..., Any]) -> Callable[..., Any]:
    def wrapped(self: ResourceMap, *args: Any, **kwargs: Any) -> Any:
        setattr(self, _BUILDING, True)
        try:
            return operation(self, *args, **kwargs)
        finally:
            setattr(self, _BUILDING, False)

    return wrapped


def install() -> None:
    original_getitem = ResourceMap.__getitem__

    def getitem(self: ResourceMap, key: str) -> Any:
        if key in self._parsed_resources or getattr(self, _BUILDING, False):
            return original_getitem(self, key)
        if key in self._resource_json_map:
            return None  # defined but not created: a read must not create it
        raise KeyError(key)

    def stack_resources(self: Stack) -> Iterable[Any]:
        return [resource for resource in self.resource_map.values() if resource is not None]

    ResourceMap.__getitem__ = getitem  # type: ignore[method-assign]
    ResourceMap.create = _building(ResourceMap.create)  # type: ignore[method-assign]
    ResourceMap.update = _building(ResourceMap.update)  # type: ignore[method-assign]
    Stack.stack_resources = property(stack_resources)  # type: ignore[assignment, method-assign]


EXTENSION = Extension(
    name="cfn-no-lazy-recreate",
    kind="fix",
    what="resources are created only during stack create/update; reads (outputs, resource lists) of a "
    "deleted, rolled-back or failed stack never re-create them; listings skip absent resources",
    why="after `cdk destroy`, reading a deleted stack's outputs re-created the resources they referenced",
    upstream=True,
    install=install,
)
