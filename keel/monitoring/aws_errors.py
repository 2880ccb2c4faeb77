"""What a failed AWS call means to the monitoring code.

Transient failures (throttling, 5xx, timeouts) are retried by botocore on clients built with `CLIENT_CONFIG`
and raised once the attempts are spent; a denied call fails closed with AWS's reason (`AccessDeniedError`);
only the service's own not-found answer means "absent"; anything else is raised as it came.
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from keel.aws import error_code, error_kind

__all__ = ["MAX_RETRIES", "AccessDeniedError", "error_code", "raise_if_denied"]

# Standard mode retries throttling, 5xx and transient network errors with backoff; a few attempts keep an
# EventBridge-invoked handler short: the invocation's own retries, then its failure destination, follow.
# (botocore's `max_attempts` counts retries after the first attempt.)
MAX_RETRIES = 4


def __getattr__(name: str) -> Any:
    """`CLIENT_CONFIG`, built on first use (PEP 562): botocore.config costs ~0.1 s of a cold start."""
    if name == "CLIENT_CONFIG":
        from botocore.config import Config

        value = globals()["CLIENT_CONFIG"] = Config(
            retries={"mode": "standard", "max_attempts": MAX_RETRIES}, connect_timeout=5, read_timeout=30
        )
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


class AccessDeniedError(PermissionError):
    """An AWS call was denied; the message names the action, the resource and AWS's reason."""


def raise_if_denied(error: ClientError, action: str, resource: str) -> None:
    """Raise AccessDeniedError (from `error`) when the call was denied; return otherwise."""
    if error_kind(error) == "denied":
        message = error.response.get("Error", {}).get("Message") or str(error)
        raise AccessDeniedError(f"{action} on {resource} was denied: {message}") from error
