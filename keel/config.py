"""Typed environment configuration, loaded from `cdk.json` context and validated once.

Nothing else reads raw CDK context: stacks, Lambdas' environment and the CLI all take an `EnvironmentConfig`.
`keel:defaults` holds the shared values; `keel:environments.<name>` overrides them per environment.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

PROJECT_ROOT = Path(__file__).resolve().parent.parent
CDK_JSON = PROJECT_ROOT / "cdk.json"
ENV_CONTEXT_KEY = "env"
DEFAULTS_KEY = "keel:defaults"
ENVIRONMENTS_KEY = "keel:environments"
DEFAULT_ENVIRONMENT = "local"
DELIVERY_KEY = "keel:delivery"
# `-c keel:overrides='{"retention": {"log_days": 14}}'`: a JSON object deep-merged over the selected
# environment, for one-off deploys and tests without editing cdk.json.
OVERRIDES_KEY = "keel:overrides"
# `-c env=delivery` selects the promotion pipeline (KeelDelivery) instead of an environment's stacks.
DELIVERY_ENVIRONMENT = "delivery"
PROJECT_TAG = "keel"

# The values CloudWatch Logs accepts for a retention period (days).
LogRetentionDays = Literal[
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653
]
RemovalPolicyName = Literal["retain", "destroy"]
MacieFrequency = Literal["DAILY", "WEEKLY", "MONTHLY"]


class ConfigError(ValueError):
    """The environment configuration is unknown or invalid; the message names the key and allowed values."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Thresholds(_Strict):
    """Quality gates and drift limits (one place for every threshold)."""

    min_accuracy: float = Field(ge=0, le=1, description="Minimum test accuracy to register a model.")
    max_feature_psi: float = Field(gt=0, description="PSI above which a feature counts as drifted.")
    ks_p_value: float = Field(gt=0, lt=1, description="KS p-value below which a feature counts as drifted.")
    max_drifted_feature_share: float = Field(
        ge=0, le=1, description="Share of drifted features above which the dataset counts as drifted."
    )


class Sizes(_Strict):
    processing_instance_type: str = Field(pattern=r"^ml\.[a-z0-9]+\.[a-z0-9]+$")
    processing_instance_count: int = Field(ge=1, le=100)
    training_instance_type: str = Field(pattern=r"^ml\.[a-z0-9]+\.[a-z0-9]+$")
    training_instance_count: int = Field(ge=1, le=100)
    processing_volume_gb: int = Field(ge=1, le=16384)
    lambda_memory_mb: int = Field(ge=128, le=10240)


class Retention(_Strict):
    log_days: LogRetentionDays
    evidence_days: int = Field(ge=1, le=36500, description="Object Lock (governance) retention of evidence.")
    noncurrent_version_days: int = Field(ge=1, description="Expire non-current object versions after.")
    infrequent_access_after_days: int = Field(ge=30, description="Move data objects to STANDARD_IA after.")
    access_log_days: int = Field(ge=1)


class Vpc(_Strict):
    vpc_id: str = Field(pattern=r"^vpc-[0-9a-f]+$")
    availability_zones: tuple[str, ...] = Field(min_length=1)
    subnet_ids: tuple[str, ...] = Field(min_length=1)
    security_group_ids: tuple[str, ...] = Field(min_length=1)


class Security(_Strict):
    permissions_boundary_arn: str | None = Field(
        default=None, pattern=r"^arn:aws[a-z-]*:iam::\d{12}:policy/.+$"
    )
    macie_enabled: bool = True
    macie_job_frequency: MacieFrequency = "WEEKLY"
    trail_multi_region: bool = True
    vpc: Vpc | None = None


class Training(_Strict):
    image_uri: str | None = Field(
        default=None,
        pattern=r"^\d{12}\.dkr\.ecr\.[a-z0-9-]+\.amazonaws\.com(\.cn)?/[a-z0-9._/-]+(:[\w.-]+|@sha256:[0-9a-f]{64})$",
        description="Pre-built step image; default: built from pipeline_steps/image at deploy (Docker).",
    )
    hyperparameters: dict[str, int | float | str] = Field(default_factory=dict)
    max_runtime_minutes: int = Field(default=60, ge=5, le=7 * 24 * 60)
    validation_fraction: float = Field(default=0.15, gt=0, lt=0.5)
    test_fraction: float = Field(default=0.15, gt=0, lt=0.5)
    random_seed: int = Field(default=42, ge=0)


class Feedback(_Strict):
    """Feedback loops: data, streaming, performance and human triggers of retraining."""

    debounce_seconds: int = Field(
        default=300,
        ge=0,
        le=86400,
        description="Objects landing within this window of each other start one pipeline execution.",
    )
    allowed_extensions: tuple[str, ...] = (".csv",)
    max_object_mb: int = Field(default=1024, ge=1, le=5 * 1024 * 1024)
    stream_shard_count: int = Field(default=1, ge=1, le=100)
    stream_retention_hours: int = Field(default=24, ge=24, le=8760)
    stream_batch_size: int = Field(default=500, ge=1, le=10000)
    retrain_after_records: int = Field(
        default=1000, ge=1, description="New valid streamed records that start one retraining."
    )
    retrain_cooldown_minutes: int = Field(
        default=60, ge=0, description="Minimum time between retrainings started by alarms."
    )
    retrain_schedule: str | None = Field(
        default=None,
        pattern=r"^(rate|cron)\(.+\)$",
        description="EventBridge schedule expression; off by default.",
    )
    reserved_concurrency: int = Field(default=5, ge=1, le=1000)
    idempotency_ttl_hours: int = Field(default=24, ge=1, le=24 * 30)


class SourceConnection(_Strict):
    type: Literal["codeconnections", "s3"]
    connection_arn: str | None = Field(
        default=None,
        pattern=r"^arn:aws[a-z-]*:(codestar-connections|"
        r"codeconnections):[a-z0-9-]+:\d{12}:connection/.+$",
    )
    repository: str | None = Field(default=None, pattern=r"^[\w.-]+/[\w.-]+$")
    branch: str = "main"
    bucket: str | None = None
    object_key: str | None = None

    @model_validator(mode="after")
    def _check(self) -> Self:
        if self.type == "codeconnections" and not (self.connection_arn and self.repository):
            raise ValueError("a codeconnections source needs connection_arn and repository")
        if self.type == "s3" and not (self.bucket and self.object_key):
            raise ValueError("an s3 source needs bucket and object_key")
        return self


class Delivery(_Strict):
    """Where the promotion pipeline (KeelDelivery) lives and what it promotes."""

    account: str = Field(pattern=r"^\d{12}$", description="tooling account")
    region: str = Field(pattern=r"^[a-z]{2}(-gov)?-[a-z]+-\d$")
    source: SourceConnection
    stages: tuple[str, ...] = Field(default=("dev", "staging", "prod"), min_length=1)
    manual_approval_before: tuple[str, ...] = ("prod",)


class EnvironmentConfig(_Strict):
    name: str = Field(pattern=r"^[a-z][a-z0-9]{1,15}$")
    account: str = Field(pattern=r"^\d{12}$")
    region: str = Field(pattern=r"^[a-z]{2}(-gov)?-[a-z]+-\d$")
    prefix: str = Field(pattern=r"^[a-z][a-z0-9-]{1,19}[a-z0-9]$", description="Naming prefix of resources.")
    owner: str = Field(min_length=1)
    cost_center: str = Field(min_length=1)
    alert_emails: tuple[str, ...] = Field(default=(), description="Subscribed to the alert topic.")
    removal_policy: RemovalPolicyName
    auto_approve: bool = Field(description="May the policy gate approve models without a human.")
    contract: str = Field(min_length=1, description="Dataset contract name (contracts/<name>.yaml).")
    thresholds: Thresholds
    sizes: Sizes
    retention: Retention
    security: Security = Security()
    training: Training = Training()
    feedback: Feedback = Feedback()

    @model_validator(mode="after")
    def _check(self) -> Self:
        for email in self.alert_emails:
            if "@" not in email or email.startswith("@") or email.endswith("@"):
                raise ValueError(f"alert_emails: {email!r} is not an e-mail address")
        if self.name == "prod" and self.auto_approve:
            raise ValueError("auto_approve must be false in prod: a human approves production models")
        return self

    @property
    def tags(self) -> dict[str, str]:
        """Cost-allocation tags applied to every resource."""
        return {
            "project": PROJECT_TAG,
            "environment": self.name,
            "owner": self.owner,
            "cost-center": self.cost_center,
        }


def _deep_merge(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = _deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _format_errors(error: ValidationError, prefix: str) -> str:
    lines = []
    for item in error.errors():
        location = ".".join(str(part) for part in item["loc"])
        lines.append(f"  {prefix}.{location}: {item['msg']}" if location else f"  {prefix}: {item['msg']}")
    return "\n".join(lines)


def environment_names(context: Mapping[str, Any]) -> list[str]:
    environments = context.get(ENVIRONMENTS_KEY)
    if not isinstance(environments, Mapping) or not environments:
        raise ConfigError(f"cdk.json context has no '{ENVIRONMENTS_KEY}' mapping of environments")
    return list(environments)


def load_config(context: Mapping[str, Any], env_name: str | None) -> EnvironmentConfig:
    """Build and validate the config of one environment from CDK context values."""
    name = env_name or DEFAULT_ENVIRONMENT
    names = environment_names(context)
    if name not in names:
        raise ConfigError(f"unknown environment {name!r} (-c env={name}); allowed values: {', '.join(names)}")
    defaults = context.get(DEFAULTS_KEY, {})
    overrides = context[ENVIRONMENTS_KEY][name]
    if not isinstance(defaults, Mapping) or not isinstance(overrides, Mapping):
        raise ConfigError(f"'{DEFAULTS_KEY}' and '{ENVIRONMENTS_KEY}.{name}' must be mappings")
    document = _deep_merge(defaults, overrides)
    extra = context.get(OVERRIDES_KEY)
    if isinstance(extra, str):
        try:
            extra = json.loads(extra)
        except json.JSONDecodeError as error:
            raise ConfigError(f"{OVERRIDES_KEY} is not valid JSON: {error}") from None
    if extra is not None:
        if not isinstance(extra, Mapping):
            raise ConfigError(f"{OVERRIDES_KEY} must be a JSON object")
        document = _deep_merge(document, extra)
    document = document | {"name": name}
    try:
        return EnvironmentConfig.model_validate(document)
    except ValidationError as error:
        raise ConfigError(
            f"invalid configuration of environment {name!r} (cdk.json context):\n"
            + _format_errors(error, f"{ENVIRONMENTS_KEY}.{name}")
        ) from None


def read_cdk_context(path: Path = CDK_JSON) -> dict[str, Any]:
    """The `context` of cdk.json, for code that runs outside the CDK app (CLI, tests, local runner)."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as error:
        raise ConfigError(f"cannot read {path}: {error}") from None
    context = document.get("context")
    if not isinstance(context, dict):
        raise ConfigError(f"{path} has no 'context' object")
    return context


def load_environment(env_name: str | None = None, *, path: Path = CDK_JSON) -> EnvironmentConfig:
    return load_config(read_cdk_context(path), env_name)


def config_from_app(app: Any) -> EnvironmentConfig:
    """The config of the environment selected with `-c env=NAME` on a CDK app (default: local)."""
    node = app.node
    context = {
        key: node.try_get_context(key)
        for key in (DEFAULTS_KEY, ENVIRONMENTS_KEY, OVERRIDES_KEY)
        if node.try_get_context(key) is not None
    }
    return load_config(context, node.try_get_context(ENV_CONTEXT_KEY))


def load_delivery(context: Mapping[str, Any]) -> Delivery:
    """The delivery (promotion pipeline) config from `keel:delivery`; its stages must be environments."""
    document = context.get(DELIVERY_KEY)
    if not isinstance(document, Mapping):
        raise ConfigError(f"cdk.json context has no '{DELIVERY_KEY}' mapping (account, source, stages)")
    try:
        delivery = Delivery.model_validate(document)
    except ValidationError as error:
        raise ConfigError(
            "invalid delivery configuration (cdk.json context):\n" + _format_errors(error, DELIVERY_KEY)
        ) from None
    names = environment_names(context)
    unknown = [stage for stage in delivery.stages if stage not in names]
    if unknown:
        raise ConfigError(
            f"{DELIVERY_KEY}.stages: unknown environment(s) {', '.join(unknown)}; "
            f"allowed values: {', '.join(names)}"
        )
    return delivery
