"""Alerts to the environment's alert topic (SNS), behind a one-method interface."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Protocol

SUBJECT_LIMIT = 100


class Notifier(Protocol):
    def publish(self, subject: str, message: dict[str, Any]) -> None: ...


@dataclass
class SnsNotifier:
    sns: Any
    topic_arn: str

    def publish(self, subject: str, message: dict[str, Any]) -> None:
        self.sns.publish(
            TopicArn=self.topic_arn,
            Subject=subject[:SUBJECT_LIMIT],
            Message=json.dumps(message, indent=2, sort_keys=True, default=str),
        )


@dataclass
class RecordingNotifier:
    """Keeps messages in memory (tests, dry runs)."""

    messages: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    def publish(self, subject: str, message: dict[str, Any]) -> None:
        self.messages.append((subject, message))
