"""Evaluate the expressions of a SageMaker pipeline definition: `Get`, `Std:Join`, `Std:JsonGet`, conditions.

The local runner interprets the *deployed* definition JSON, so the definition itself is what gets tested.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any


class ExpressionError(ValueError):
    """A definition expression cannot be evaluated (unknown reference, missing property file, bad path)."""


@dataclass
class ExecutionContext:
    """What expressions can refer to while an execution runs."""

    parameters: dict[str, Any]
    execution: dict[str, str]
    steps: dict[str, dict[str, Any]] = field(default_factory=dict)  # step name -> its properties
    # (step name, property file name) -> parsed JSON document, loaded lazily from the step's output
    property_file_loader: Callable[[str, str], Any] | None = None


_PATH_TOKEN = re.compile(r"\.?([A-Za-z0-9_]+)|\[(\d+)\]|\['([^']+)'\]")


def _walk(root: Any, path: str, reference: str) -> Any:
    value = root
    position = 0
    while position < len(path):
        match = _PATH_TOKEN.match(path, position)
        if not match:
            raise ExpressionError(f"cannot parse property path {path!r} of {reference}")
        key, index, quoted = match.groups()
        position = match.end()
        try:
            if index is not None:
                value = value[int(index)]
            elif quoted is not None:
                value = value[quoted]
            else:
                value = value[key]
        except (KeyError, IndexError, TypeError):
            raise ExpressionError(
                f"{reference}: no such property ({path!r} at {key or index or quoted!r})"
            ) from None
    return value


def _get(reference: str, context: ExecutionContext) -> Any:
    namespace, _, rest = reference.partition(".")
    if namespace == "Parameters":
        if rest not in context.parameters:
            raise ExpressionError(f"unknown parameter {rest!r}")
        return context.parameters[rest]
    if namespace == "Execution":
        if rest not in context.execution:
            raise ExpressionError(f"unknown execution variable {rest!r}")
        return context.execution[rest]
    if namespace == "Steps":
        step_name, _, path = rest.partition(".")
        if step_name not in context.steps:
            raise ExpressionError(f"step {step_name!r} has not run (referenced as {reference!r})")
        if path.startswith("PropertyFiles."):
            return {"__property_file__": (step_name, path.removeprefix("PropertyFiles."))}
        return _walk(context.steps[step_name], path, reference)
    raise ExpressionError(f"unsupported reference {reference!r}")


def json_get(document: Any, path: str) -> Any:
    """JsonPath subset SageMaker's JsonGet supports: dotted keys and [index]."""
    return _walk(document, path, f"JsonGet {path!r}")


def evaluate(value: Any, context: ExecutionContext) -> Any:
    """Resolve every expression inside `value` (recursively) to a plain JSON value."""
    if isinstance(value, list):
        return [evaluate(item, context) for item in value]
    if not isinstance(value, Mapping):
        return value
    if set(value) == {"Get"}:
        resolved = _get(value["Get"], context)
        if isinstance(resolved, dict) and "__property_file__" in resolved:
            raise ExpressionError(f"{value['Get']} is a property file: use it through Std:JsonGet")
        return resolved
    if set(value) == {"Std:Join"}:
        join = value["Std:Join"]
        return str(join["On"]).join(_as_text(evaluate(item, context)) for item in join["Values"])
    if set(value) == {"Std:JsonGet"}:
        spec = value["Std:JsonGet"]
        reference = spec["PropertyFile"]["Get"] if isinstance(spec["PropertyFile"], Mapping) else None
        if not reference:
            raise ExpressionError(f"Std:JsonGet without a property file reference: {spec!r}")
        handle = _get(reference, context)
        if not (isinstance(handle, dict) and "__property_file__" in handle):
            raise ExpressionError(f"{reference} is not a property file")
        if context.property_file_loader is None:
            raise ExpressionError("no property file loader")
        document = context.property_file_loader(*handle["__property_file__"])
        return json_get(document, evaluate(spec["Path"], context))
    return {key: evaluate(item, context) for key, item in value.items()}


def _as_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return json.dumps(value)
    return str(value)


_COMPARISONS: dict[str, Callable[[Any, Any], bool]] = {
    "Equals": lambda a, b: a == b,
    "GreaterThan": lambda a, b: a > b,
    "GreaterThanOrEqualTo": lambda a, b: a >= b,
    "LessThan": lambda a, b: a < b,
    "LessThanOrEqualTo": lambda a, b: a <= b,
}


def evaluate_condition(condition: Mapping[str, Any], context: ExecutionContext) -> bool:
    kind = condition["Type"]
    if kind in _COMPARISONS:
        left = evaluate(condition["LeftValue"], context)
        right = evaluate(condition["RightValue"], context)
        if kind != "Equals":
            left, right = float(left), float(right)
        return _COMPARISONS[kind](left, right)
    if kind == "Not":
        return not evaluate_condition(condition["Expression"], context)
    if kind == "Or":
        return any(evaluate_condition(c, context) for c in condition["Conditions"])
    if kind == "In":
        return evaluate(condition["QueryValue"], context) in evaluate(condition["Values"], context)
    raise ExpressionError(f"unsupported condition type {kind!r}")
