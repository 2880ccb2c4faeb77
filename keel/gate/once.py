"""Once per event: the Powertools idempotency both governance Lambdas (policy gate, Macie quarantine) wrap
their action in — keyed on the EventBridge event id, results kept in the governance idempotency table."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)

from keel.gate.settings import GovernanceSettings

Deps = TypeVar("Deps")


@dataclass
class OncePerEvent(Generic[Deps]):
    deps: Deps
    run: Callable[..., dict[str, Any]]  # run(event=...) -> the action's result, or the stored one
    idempotency: IdempotencyConfig


def once_per_event(
    deps: Deps,
    action: Callable[[Deps, dict[str, Any]], dict[str, Any]],
    *,
    settings: GovernanceSettings,
    session: Any,
    key_prefix: str,
) -> OncePerEvent[Deps]:
    config = IdempotencyConfig(
        event_key_jmespath="id",
        raise_on_no_idempotency_key=True,
        expires_after_seconds=settings.idempotency_ttl_seconds,
    )
    persistence = DynamoDBPersistenceLayer(
        table_name=settings.idempotency_table, boto3_client=session.client("dynamodb")
    )

    def run(event: dict[str, Any]) -> dict[str, Any]:
        return action(deps, event)

    wrapped = idempotent_function(
        run,
        data_keyword_argument="event",
        persistence_store=persistence,
        config=config,
        key_prefix=key_prefix,
    )
    return OncePerEvent(deps, wrapped, config)
