"""The smoke-check registry: every check the delivery pipeline runs after deploying an environment.

To add a check, write a module here that defines a `SmokeCheck` (a function over `SmokeContext` that returns
what it verified or raises `CheckFailedError`, plus the read-only permissions it needs) and append it to
`CHECKS`. The smoke-check role in each environment is generated from these permissions.
"""

from __future__ import annotations

from collections.abc import Sequence

from keel.config import EnvironmentConfig
from keel.delivery.checks.audit_trail import AUDIT_TRAIL
from keel.delivery.checks.buckets import BUCKETS
from keel.delivery.checks.model_registry import MODEL_REGISTRY
from keel.delivery.checks.training_pipeline import TRAINING_PIPELINE
from keel.delivery.smoke import Permission, SmokeCheck

CHECKS: tuple[SmokeCheck, ...] = (TRAINING_PIPELINE, MODEL_REGISTRY, AUDIT_TRAIL, BUCKETS)


def select(names: Sequence[str] | None) -> tuple[SmokeCheck, ...]:
    """The named checks in registry order (all of them when `names` is empty)."""
    if not names:
        return CHECKS
    known = {check.name for check in CHECKS}
    unknown = sorted(set(names) - known)
    if unknown:
        raise ValueError(f"unknown check(s) {', '.join(unknown)}; allowed values: {', '.join(sorted(known))}")
    return tuple(check for check in CHECKS if check.name in names)


def required_permissions(config: EnvironmentConfig) -> list[Permission]:
    return [permission for check in CHECKS for permission in check.permissions(config)]
