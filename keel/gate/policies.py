"""Load the declarative policy set (`policies.yaml`) and evaluate it over gathered facts."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import Literal, Self

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from keel.gate.checks import CHECKS
from keel.gate.facts import GateFacts
from keel.gate.model import PolicyResult, Severity
from keel.gate.settings import GovernanceSettings

POLICIES_FILE = Path(__file__).with_name("policies.yaml")


class PolicyError(ValueError):
    """The policy file is malformed or names an unknown check."""


class Policy(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=r"^[a-z]+(\.[a-z0-9-]+)+$")
    severity: Severity
    check: str
    description: str = Field(min_length=20)

    @model_validator(mode="after")
    def _known_check(self) -> Self:
        if self.check not in CHECKS:
            raise ValueError(f"unknown check {self.check!r}; known: {', '.join(sorted(CHECKS))}")
        return self


class PolicySet(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    schema_version: Literal[1]
    policies: tuple[Policy, ...] = Field(min_length=1)
    sha256: str = ""

    @model_validator(mode="after")
    def _unique(self) -> Self:
        ids = [p.id for p in self.policies]
        duplicates = sorted({i for i in ids if ids.count(i) > 1})
        if duplicates:
            raise ValueError(f"duplicate policy ids: {', '.join(duplicates)}")
        return self

    @property
    def blocking(self) -> tuple[Policy, ...]:
        return tuple(p for p in self.policies if p.severity is Severity.BLOCKING)


def parse_policies(text: str, *, source: str = "policies") -> PolicySet:
    try:
        document = yaml.safe_load(text)
        policy_set = PolicySet.model_validate(document)
    except (yaml.YAMLError, ValidationError) as error:
        raise PolicyError(f"{source}: {error}") from None
    return policy_set.model_copy(update={"sha256": hashlib.sha256(text.encode()).hexdigest()})


@lru_cache(maxsize=4)
def load_policies(path: Path = POLICIES_FILE) -> PolicySet:
    return parse_policies(path.read_text(encoding="utf-8"), source=str(path))


def evaluate(
    policies: Sequence[Policy], facts: GateFacts, settings: GovernanceSettings
) -> list[PolicyResult]:
    results = []
    for policy in policies:
        try:
            verdict = CHECKS[policy.check](facts, settings)
            passed, reason, details = verdict.passed, verdict.reason, verdict.details
        except Exception as error:  # a crashing check is a failed policy, never a pass
            passed, reason, details = (
                False,
                f"check {policy.check} crashed: {type(error).__name__}: {error}",
                {},
            )
        results.append(
            PolicyResult(
                id=policy.id,
                description=policy.description,
                severity=policy.severity,
                passed=passed,
                reason=reason,
                details=details,
            )
        )
    return results
