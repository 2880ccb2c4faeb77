"""SSM-typed stack parameters are reported as CloudFormation does: the parameter *name* as
`ParameterValue` and the looked-up value as `ResolvedValue`.

moto reported only the resolved value, which clients then sent back as the "previous value" of the
parameter; with the UsePreviousValue fix in `cfn_change_sets` this makes updates of CDK stacks (whose
`BootstrapVersion` is `AWS::SSM::Parameter::Value<String>`) work.
"""

from __future__ import annotations

from typing import Any

from moto.cloudformation.models import Stack

from keel.local.extensions import Extension


def parameter_list(self: Stack) -> list[dict[str, Any]]:
    template = self.template_dict if isinstance(self.template_dict, dict) else {}
    declared = template.get("Parameters") or {}
    hidden = set(self.resource_map.no_echo_parameter_keys)
    result = []
    for key, resolved in self.resource_map.resolved_parameters.items():
        entry: dict[str, Any] = {"ParameterKey": key, "ParameterValue": "****" if key in hidden else resolved}
        declaration = declared.get(key) or {}
        if str(declaration.get("Type", "")).startswith("AWS::SSM::Parameter::"):
            entry["ParameterValue"] = self.parameters.get(key, declaration.get("Default"))
            entry["ResolvedValue"] = resolved
        result.append(entry)
    return result


def install() -> None:
    Stack.parameter_list = property(parameter_list)  # type: ignore[assignment, method-assign]


EXTENSION = Extension(
    name="cfn-ssm-parameters",
    kind="fix",
    what="DescribeStacks reports SSM-typed parameters as name (ParameterValue) + value (ResolvedValue)",
    why="the resolved value was fed back on update and looked up as a parameter name: CDK stack updates "
    "failed on BootstrapVersion",
    upstream=True,
    install=install,
)
