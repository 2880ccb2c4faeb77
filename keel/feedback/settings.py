"""Typed settings of the feedback functions, read from the environment variables the feedback stack sets.

`function_environment(config, function)` is the one place that derives those variables from the environment
config: the stack passes its result to the Lambda, and the local runner sets the same variables before it
calls a handler in-process, so both run one code path.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar, Self

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from keel.feedback.names import (
    FeedbackFunction,
    idempotency_table_name,
    retrain_alarm_prefixes,
    state_table_name,
)
from keel.naming import (
    METRICS_NAMESPACE,
    BucketPurpose,
    bucket_name,
    glue_database_name,
    glue_table_name,
    pipeline_name,
)
from keel.serving.names import endpoint_capture_uri

if TYPE_CHECKING:  # CDK-side config: annotations only, so no Lambda imports it
    from keel.config import EnvironmentConfig

ENV_PREFIX = "KEEL_"


class SettingsError(ValueError):
    """A required environment variable is missing or invalid; the message names it."""


class _Settings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    function: ClassVar[FeedbackFunction]

    env: str = Field(min_length=1)
    contract: str = Field(min_length=1)
    pipeline_name: str = Field(min_length=1)
    idempotency_table: str = Field(min_length=3)
    idempotency_ttl_seconds: int = Field(ge=60)
    state_table: str = Field(min_length=3)
    raw_bucket: str = Field(min_length=3)
    reports_bucket: str = Field(min_length=3)

    @field_validator("*", mode="before")
    @classmethod
    def _split_lists(cls, value: Any, info: Any) -> Any:
        # Tuples travel as comma-separated strings in the environment.
        annotation = cls.model_fields[info.field_name].annotation
        if isinstance(value, str) and getattr(annotation, "__origin__", None) is tuple:
            return tuple(part for part in value.split(",") if part)
        return value

    @classmethod
    def from_environ(cls, environ: Mapping[str, str] | None = None) -> Self:
        environ = os.environ if environ is None else environ
        values = {
            name: environ[ENV_PREFIX + name.upper()]
            for name in cls.model_fields
            if ENV_PREFIX + name.upper() in environ
        }
        try:
            return cls.model_validate(values)
        except ValidationError as error:
            problems = "; ".join(
                f"{ENV_PREFIX}{str(item['loc'][0]).upper()}: {item['msg']}" for item in error.errors()
            )
            raise SettingsError(f"{cls.function.value}: invalid environment: {problems}") from None

    def to_environ(self) -> dict[str, str]:
        environ = {}
        for name, value in self.model_dump().items():
            if value is None:
                continue
            text = ",".join(value) if isinstance(value, tuple) else str(value)
            environ[ENV_PREFIX + name.upper()] = text
        return environ


class DataTriggerSettings(_Settings):
    function: ClassVar[FeedbackFunction] = FeedbackFunction.DATA_TRIGGER
    debounce_seconds: int = Field(ge=0)
    allowed_extensions: tuple[str, ...] = Field(min_length=1)
    max_object_bytes: int = Field(ge=1)


class StreamIngestSettings(_Settings):
    function: ClassVar[FeedbackFunction] = FeedbackFunction.STREAM_INGEST
    retrain_after_records: int = Field(ge=1)
    stream_retention_hours: int = Field(ge=1)
    glue_database: str = Field(min_length=1)
    glue_table: str = Field(min_length=1)


class PerformanceTriggerSettings(_Settings):
    function: ClassVar[FeedbackFunction] = FeedbackFunction.PERFORMANCE_TRIGGER
    retrain_cooldown_seconds: int = Field(ge=0)
    alarm_prefixes: tuple[str, ...] = Field(min_length=1)


class FeedbackIngestSettings(_Settings):
    function: ClassVar[FeedbackFunction] = FeedbackFunction.FEEDBACK_INGEST
    feedback_bucket: str = Field(min_length=3)
    glue_database: str = Field(min_length=1)
    glue_table: str = Field(min_length=1)
    metrics_namespace: str = Field(min_length=1)
    capture_uri: str | None = Field(
        default=None, pattern=r"^s3://[a-z0-9.-]+/.*$", description="Endpoint data capture, when deployed."
    )


SETTINGS: dict[FeedbackFunction, type[_Settings]] = {
    FeedbackFunction.DATA_TRIGGER: DataTriggerSettings,
    FeedbackFunction.STREAM_INGEST: StreamIngestSettings,
    FeedbackFunction.PERFORMANCE_TRIGGER: PerformanceTriggerSettings,
    FeedbackFunction.FEEDBACK_INGEST: FeedbackIngestSettings,
}


def settings_for(config: EnvironmentConfig, function: FeedbackFunction) -> _Settings:
    feedback = config.feedback
    common: dict[str, Any] = {
        "env": config.name,
        "contract": config.contract,
        "pipeline_name": pipeline_name(config),
        "idempotency_table": idempotency_table_name(config),
        "idempotency_ttl_seconds": feedback.idempotency_ttl_hours * 3600,
        "state_table": state_table_name(config),
        "raw_bucket": bucket_name(config, BucketPurpose.RAW),
        "reports_bucket": bucket_name(config, BucketPurpose.REPORTS),
    }
    specific: dict[FeedbackFunction, dict[str, Any]] = {
        FeedbackFunction.DATA_TRIGGER: {
            "debounce_seconds": feedback.debounce_seconds,
            "allowed_extensions": tuple(e.lower() for e in feedback.allowed_extensions),
            "max_object_bytes": feedback.max_object_mb * 1024 * 1024,
        },
        FeedbackFunction.STREAM_INGEST: {
            "retrain_after_records": feedback.retrain_after_records,
            "stream_retention_hours": feedback.stream_retention_hours,
            "glue_database": glue_database_name(config),
            "glue_table": glue_table_name(config.contract, BucketPurpose.RAW),
        },
        FeedbackFunction.PERFORMANCE_TRIGGER: {
            "retrain_cooldown_seconds": feedback.retrain_cooldown_minutes * 60,
            "alarm_prefixes": retrain_alarm_prefixes(config),
        },
        FeedbackFunction.FEEDBACK_INGEST: {
            "feedback_bucket": bucket_name(config, BucketPurpose.FEEDBACK),
            "glue_database": glue_database_name(config),
            "glue_table": glue_table_name(config.contract, BucketPurpose.FEEDBACK),
            "metrics_namespace": METRICS_NAMESPACE,
            "capture_uri": endpoint_capture_uri(config),
        },
    }
    return SETTINGS[function].model_validate(common | specific[function])


def function_environment(config: EnvironmentConfig, function: FeedbackFunction) -> dict[str, str]:
    """Every variable a feedback function reads (Keel settings and Powertools configuration)."""
    return {
        **settings_for(config, function).to_environ(),
        "POWERTOOLS_SERVICE_NAME": function.value,
        "POWERTOOLS_METRICS_NAMESPACE": METRICS_NAMESPACE,
    }
