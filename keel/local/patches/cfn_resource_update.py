"""A resource whose moto model cannot be updated keeps its current state on a stack update.

moto stored `None` for such a resource (e.g. AWS::DynamoDB::Table, AWS::IAM::InstanceProfile), so it
vanished from the stack: later Ref/GetAtt failed and a delete left it behind. The update is logged as
not emulated instead.
"""

from __future__ import annotations

import logging
from typing import Any

from moto.cloudformation import parsing

from keel.local.extensions import Extension

LOG = logging.getLogger("keel.local")


def install() -> None:
    original = parsing.parse_and_update_resource

    def parse_and_update_resource(
        logical_id: str, resource_json: dict[str, Any], resources_map: Any, account_id: str, region_name: str
    ) -> Any:
        resource = original(logical_id, resource_json, resources_map, account_id, region_name)
        if resource is None:
            existing = resources_map._parsed_resources.get(logical_id)
            if existing is not None:
                LOG.warning(
                    "%s (%s): update not emulated locally, kept as is", logical_id, resource_json.get("Type")
                )
                return existing
        return resource

    parsing.parse_and_update_resource = parse_and_update_resource


EXTENSION = Extension(
    name="cfn-keep-unupdatable",
    kind="fix",
    what="resources whose moto model has no update keep their state (and stay in the stack) on update",
    why="moto replaced them with None: the resource dropped out of the stack on any change",
    upstream=True,
    install=install,
)
