"""Monitoring settings: alarm thresholds not already in the environment config, the drift-check schedule, and
the monthly budget.

The drift, accuracy and gate thresholds come from `config.thresholds` (one place for every threshold); these
are the operational ones the config does not have yet. Candidates for `keel.config.EnvironmentConfig` (a
`monitoring:` section in cdk.json); `monitoring_settings(config)` is the one place that decides them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict, Field

if TYPE_CHECKING:  # CDK-side config: annotations only, so no Lambda imports it
    from keel.config import EnvironmentConfig


class MonitoringSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    drift_check_schedule: str = Field(
        default="rate(1 day)", pattern=r"^(rate|cron)\(.+\)$", description="EventBridge schedule expression."
    )
    drift_window_hours: int = Field(default=24, ge=1, le=24 * 31, description="Captured traffic compared.")
    min_capture_rows: int = Field(
        default=100, ge=1, description="Fewer captured rows are reported but publish no drift verdict."
    )
    drift_check_stale_hours: int = Field(
        default=48, ge=2, le=24 * 7, description="No drift check for this long is an alarm."
    )
    max_model_latency_ms: int = Field(default=500, ge=1, description="p99 ModelLatency limit.")
    max_5xx_errors: int = Field(default=5, ge=1, description="5xx per minute, 2 of 3 minutes.")
    invocation_anomaly_band: float = Field(default=3.0, gt=0, le=10, description="Band width in std devs.")
    min_feedback_samples: int = Field(
        default=20, ge=1, description="Reviewed predictions needed before accuracy is judged."
    )
    feedback_window_hours: int = Field(default=6, ge=1, le=24)
    max_retrains_per_day: int = Field(default=6, ge=1, description="More is a retraining loop: alarm.")
    monthly_budget_usd: float = Field(default=500.0, gt=0)
    budget_alert_percent: int = Field(default=80, ge=1, le=1000, description="Of actual spend.")


# Default monthly budgets (USD) per environment until a config value exists: production hosts two endpoint
# instances around the clock and trains on larger instances; staging mirrors it at a smaller scale.
DEFAULT_MONTHLY_BUDGET_USD = {"prod": 3000.0, "staging": 1000.0, "dev": 500.0, "local": 50.0}


def monitoring_settings(config: EnvironmentConfig, **overrides: object) -> MonitoringSettings:
    defaults: dict[str, object] = {"monthly_budget_usd": DEFAULT_MONTHLY_BUDGET_USD.get(config.name, 500.0)}
    return MonitoringSettings.model_validate(defaults | overrides)
