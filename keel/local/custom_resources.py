"""Local providers for CloudFormation custom resources: `Custom::Type` → a Python callable.

moto would invoke a custom resource's provider Lambda, which needs Docker, so the stack hangs. Keel's
local AWS runs a registered Python provider in-process instead; an unregistered type fails at once with
a message naming this registry.

A provider is `fn(event, *clients) -> {"PhysicalResourceId": ..., "Data": {...}}`: `event` is the
standard CloudFormation custom-resource request and each client is a boto3 client, pointed at the local
server, for the services the registration names (e.g. `macie2`).
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

Provider = Callable[..., dict[str, Any] | None]


@dataclass(frozen=True)
class LocalProvider:
    resource_type: str
    target: str  # "package.module:function" or "/path/to/file.py:function"
    clients: tuple[str, ...] = ()

    def load(self) -> Provider:
        return load_target(self.target)


BUILTIN_PROVIDERS: tuple[LocalProvider, ...] = (
    # Keel's own provider (lambdas/macie_job_provider): there is no CloudFormation type for a Macie job.
    LocalProvider(
        "Custom::KeelMacieClassificationJob", "lambdas.macie_job_provider.provider:on_event", ("macie2",)
    ),
    # CDK's own custom resources that Keel's stacks may contain, re-implemented in Python.
    LocalProvider("Custom::S3AutoDeleteObjects", "keel.local.providers.s3_auto_delete:on_event", ("s3",)),
    LocalProvider("Custom::LogRetention", "keel.local.providers.log_retention:on_event", ("logs",)),
)

_providers: dict[str, LocalProvider] = {p.resource_type: p for p in BUILTIN_PROVIDERS}


def register(provider: LocalProvider) -> None:
    _providers[provider.resource_type] = provider


def get(resource_type: str) -> LocalProvider | None:
    return _providers.get(resource_type)


def registered() -> list[LocalProvider]:
    return sorted(_providers.values(), key=lambda p: p.resource_type)


def parse_spec(spec: str) -> LocalProvider:
    """`Custom::Type=module:function[@service,service]` (the launcher's `--provider` option)."""
    resource_type, sep, rest = spec.partition("=")
    target, _, services = rest.partition("@")
    if not sep or not resource_type.startswith("Custom::") or ":" not in target:
        raise ValueError(f"invalid provider {spec!r}: expected Custom::Type=module:function[@service,...]")
    return LocalProvider(resource_type, target, tuple(s for s in services.split(",") if s))


def format_spec(provider: LocalProvider) -> str:
    services = f"@{','.join(provider.clients)}" if provider.clients else ""
    return f"{provider.resource_type}={provider.target}{services}"


def load_target(target: str) -> Provider:
    location, _, attribute = target.rpartition(":")
    if location.endswith(".py"):
        path = Path(location)
        module_name = f"keel_local_provider_{abs(hash(path.resolve()))}"
        module = sys.modules.get(module_name)
        if module is None:
            spec = importlib.util.spec_from_file_location(module_name, path)
            if spec is None or spec.loader is None:
                raise ImportError(f"cannot load provider file {path}")
            module = importlib.util.module_from_spec(spec)
            sys.modules[module_name] = module
            spec.loader.exec_module(module)
    else:
        module = importlib.import_module(location)
    function: Provider = getattr(module, attribute)
    return function


def stringify(value: Any) -> Any:
    """CloudFormation hands custom resources every scalar property as a string ("true", "3")."""
    if isinstance(value, dict):
        return {key: stringify(item) for key, item in value.items()}
    if isinstance(value, list):
        return [stringify(item) for item in value]
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None or isinstance(value, str):
        return value
    return str(value)
