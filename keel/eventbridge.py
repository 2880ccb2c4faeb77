"""The EventBridge envelope the governance handlers parse their events with.

The same fields and validation as Powertools' `EventBridgeModel`, defined here because importing that one
imports Powertools' whole parser model package (every AWS event model, ~0.1 s of a cold start).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator


class EventBridgeEvent(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    version: str
    id: str
    source: str
    account: str
    time: datetime
    region: str
    resources: list[str]
    detail_type: str = Field(..., alias="detail-type")
    detail: Any
    replay_name: str | None = Field(None, alias="replay-name")

    @field_validator("detail", mode="before")
    @classmethod
    def _scheduler_empty_detail(cls, value: Any, info: ValidationInfo) -> Any:
        # As Powertools: EventBridge Scheduler sends '{}' (a string) when the schedule has no payload.
        return {} if info.data.get("source") == "aws.scheduler" and value == "{}" else value
