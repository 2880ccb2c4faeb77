"""Model package references: parse an ARN (or a bare version number) and decide whether it is Keel's."""

from __future__ import annotations

import re
from dataclasses import dataclass

from keel.gate.settings import GovernanceSettings

_ARN = re.compile(
    r"^arn:(?P<partition>aws[a-z-]*):sagemaker:(?P<region>[a-z0-9-]+):(?P<account>\d{12}):"
    r"model-package/(?P<group>[A-Za-z0-9-]{1,63})/(?P<version>\d+)$"
)


class ForeignModelPackageError(ValueError):
    """The reference is not a version of Keel's model package group in this environment."""


@dataclass(frozen=True)
class ModelPackageRef:
    arn: str
    group: str
    version: int

    @property
    def label(self) -> str:
        return f"{self.group}/{self.version}"


def parse_reference(settings: GovernanceSettings, text: str) -> ModelPackageRef:
    """`text` is a model package ARN or a version number of Keel's group; raises for anything else.

    Fail closed: a versioned ARN of another group, account, region or partition is foreign, and so is an
    unversioned (unregistered) model package.
    """
    text = text.strip()
    if text.isdigit():
        version = int(text)
        if version < 1:
            raise ForeignModelPackageError(f"model package version must be >= 1, got {text}")
        return ModelPackageRef(settings.model_package_arn(version), settings.model_package_group, version)
    match = _ARN.match(text)
    if not match:
        raise ForeignModelPackageError(
            f"{text!r} is not a versioned model package ARN "
            "(arn:<partition>:sagemaker:<region>:<account>:model-package/<group>/<version>)"
        )
    expected = {
        "partition": settings.partition,
        "region": settings.region,
        "account": settings.account,
        "group": settings.model_package_group,
    }
    for field, value in expected.items():
        if match[field].lower() != value.lower():
            raise ForeignModelPackageError(
                f"{text} is foreign: its {field} is {match[field]!r}, Keel's {settings.env} environment "
                f"uses {value!r}"
            )
    return ModelPackageRef(text, settings.model_package_group, int(match["version"]))
