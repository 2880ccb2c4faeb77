"""Puts Keel's CloudFormation models in front of moto's own, by resource type.

moto finds models through `CloudFormationModel.__subclasses__()` (direct subclasses only, cached), and
resolves `Custom::*` types before looking at its map. We replace its three lookup functions in
`moto.cloudformation.parsing` (all callers there use the module globals) with ones that consult Keel's
registry first.
"""

from __future__ import annotations

from collections.abc import Callable

from moto.cloudformation import parsing
from moto.core.common_models import CloudFormationModel

ModelClass = type[CloudFormationModel]

_models: dict[str, ModelClass] = {}
_custom_resolver: list[Callable[[str], ModelClass | None]] = []
_installed = False


def register(*models: ModelClass) -> None:
    for model in models:
        _models[model.cloudformation_type()] = model
    _install_lookup()


def set_custom_resolver(resolver: Callable[[str], ModelClass | None]) -> None:
    """`resolver(resource_type)` picks the model for `Custom::*` types (None: moto's own handling)."""
    _custom_resolver[:] = [resolver]
    _install_lookup()


def registered_types() -> list[str]:
    return sorted(_models)


def _install_lookup() -> None:
    global _installed
    if _installed:
        return
    _installed = True
    stock_list = [m for m in parsing.get_model_list() if m.__module__.startswith("moto.")]
    stock_resolve = parsing.resource_class_from_type

    def model_list() -> list[ModelClass]:
        overridden = set(_models)
        return [*_models.values(), *(m for m in stock_list if m.cloudformation_type() not in overridden)]

    def model_map() -> dict[str, ModelClass]:
        return {model.cloudformation_type(): model for model in model_list()}

    def name_type_map() -> dict[str, str]:
        return {model.cloudformation_type(): model.cloudformation_name_type() for model in model_list()}

    def resource_class_from_type(resource_type: str) -> ModelClass:
        if resource_type in _models:
            return _models[resource_type]
        if resource_type.startswith("Custom::") and _custom_resolver:
            model = _custom_resolver[0](resource_type)
            if model is not None:
                return model
        return stock_resolve(resource_type)

    parsing.get_model_list = model_list  # type: ignore[assignment]
    parsing.get_model_map = model_map  # type: ignore[assignment]
    parsing.get_name_type_map = name_type_map  # type: ignore[assignment]
    parsing.resource_class_from_type = resource_class_from_type
