"""Powertools idempotency backed by Keel's DynamoDB table, applied to plain functions at run time.

The table name comes from the settings (environment), so the decorator is applied when the runtime is built,
not at import. Keys get a stable prefix (not the function name), so the Lambda, the local runner and tests
share one key space.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from aws_lambda_powertools.utilities.idempotency import IdempotencyConfig, idempotent_function
from aws_lambda_powertools.utilities.idempotency.persistence.base import BasePersistenceLayer

F = TypeVar("F", bound=Callable[..., Any])

# Powertools' DynamoDB persistence defaults: the table's partition key and TTL attribute.
KEY_ATTRIBUTE, TTL_ATTRIBUTE = "id", "expiration"


class Idempotency:
    def __init__(self, persistence: Callable[[], BasePersistenceLayer], *, ttl_seconds: int) -> None:
        # A factory: Powertools configures a persistence layer once (its JMESPath key is fixed then), so each
        # wrapped function gets its own layer on the same table.
        self._persistence = persistence
        self._ttl_seconds = ttl_seconds
        self._configs: list[IdempotencyConfig] = []

    def wrap(self, function: F, *, key_prefix: str, key_jmespath: str, data_keyword: str) -> F:
        """`function(**{data_keyword: dict})` runs once per key (JMESPath into that dict) within the TTL.

        A failing call deletes its in-progress record (so a retry runs again); a concurrent duplicate raises
        `IdempotencyAlreadyInProgressError` (so the platform retries it later and gets the stored result).
        """
        config = IdempotencyConfig(
            event_key_jmespath=key_jmespath,
            raise_on_no_idempotency_key=True,
            expires_after_seconds=self._ttl_seconds,
        )
        self._configs.append(config)
        return idempotent_function(
            function,
            data_keyword_argument=data_keyword,
            persistence_store=self._persistence(),
            config=config,
            key_prefix=key_prefix,
        )

    def register_lambda_context(self, context: Any) -> None:
        """In-progress records expire with the invocation's remaining time (a crashed run is retried)."""
        if context is None or not hasattr(context, "get_remaining_time_in_millis"):
            return
        for config in self._configs:
            config.register_lambda_context(context)
