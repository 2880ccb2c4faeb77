"""The post-deployment smoke check: a small registry of checks run against one environment's AWS APIs.

Each check is a plain function over a `SmokeContext` that returns what it verified, or raises
`CheckFailedError` with what is wrong and where. A check also declares the IAM permissions it needs, so
the read-only role that the delivery pipeline assumes in each environment is generated from the same
registry (`stacks/delivery/smoke_access.py`): adding a check can never forget its grant.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from keel.config import EnvironmentConfig
from keel.contract import DatasetContract, load_contract

ClientFactory = Callable[[str], Any]


class CheckFailedError(Exception):
    """The environment is not healthy; the message names the resource and what is wrong with it."""


@dataclass(frozen=True)
class Permission:
    """One IAM statement a check needs (read-only; resources named from the config)."""

    actions: tuple[str, ...]
    resources: tuple[str, ...]
    conditions: Mapping[str, Mapping[str, str]] = field(default_factory=dict)


@dataclass(frozen=True)
class SmokeCheck:
    name: str
    description: str
    run: Callable[[SmokeContext], str]
    permissions: Callable[[EnvironmentConfig], Sequence[Permission]]


@dataclass(frozen=True)
class CheckResult:
    name: str
    ok: bool
    detail: str


class SmokeContext:
    """What a check may use: the environment's config and contract, and boto3 clients (one per service)."""

    def __init__(self, config: EnvironmentConfig, client_factory: ClientFactory) -> None:
        self.config = config
        self._client_factory = client_factory
        self._clients: dict[str, Any] = {}

    def client(self, service: str) -> Any:
        if service not in self._clients:
            self._clients[service] = self._client_factory(service)
        return self._clients[service]

    @cached_property
    def contract(self) -> DatasetContract:
        return load_contract(self.config.contract)


# Error codes AWS (and moto) answer for a resource that does not exist.
_NOT_FOUND_CODES = {
    "ResourceNotFound",
    "ResourceNotFoundException",
    "NoSuchBucket",
    "TrailNotFoundException",
    "NotFoundException",
}


def is_not_found(error: ClientError) -> bool:
    code = error.response.get("Error", {}).get("Code", "")
    message = error.response.get("Error", {}).get("Message", "")
    # SageMaker answers ValidationException for a missing pipeline or model package group.
    return code in _NOT_FOUND_CODES or (
        code == "ValidationException" and ("does not exist" in message or "Could not find" in message)
    )


def run_checks(context: SmokeContext, checks: Iterable[SmokeCheck]) -> list[CheckResult]:
    """Run every check; one failing (or erroring) check never hides the others' results."""
    results = []
    for check in checks:
        try:
            results.append(CheckResult(check.name, True, check.run(context)))
        except CheckFailedError as failure:
            results.append(CheckResult(check.name, False, str(failure)))
        except (ClientError, BotoCoreError) as error:
            results.append(CheckResult(check.name, False, f"AWS error: {error}"))
    return results


def format_results(config: EnvironmentConfig, results: Sequence[CheckResult]) -> str:
    lines = [f"smoke check of environment {config.name} ({config.account}/{config.region})"]
    width = max((len(r.name) for r in results), default=0)
    for result in results:
        mark = "PASS" if result.ok else "FAIL"
        first, *rest = result.detail.splitlines() or [""]
        lines.append(f"  {mark}  {result.name:{width}s}  {first}")
        lines.extend(f"  {'':4s}  {'':{width}s}  {line}" for line in rest)
    failed = [r.name for r in results if not r.ok]
    lines.append(
        f"FAILED: {len(failed)} of {len(results)} check(s): {', '.join(failed)}"
        if failed
        else f"healthy: {len(results)} check(s) passed"
    )
    return "\n".join(lines)
