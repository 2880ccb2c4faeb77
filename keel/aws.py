"""AWS clients for the CLI and the local runner, and what a failed AWS call means.

Environment `local` always talks to the local server (the endpoint from AWS_ENDPOINT_URL or
`.keel/local.json`, fake credentials): it can never reach a real account. `error_kind` tells the outcomes of a
failed call apart (transient, denied, not found, rejected): they are never folded into one another.
"""

from __future__ import annotations

import json
import os
from typing import TYPE_CHECKING, Any, Literal

from botocore.exceptions import (
    ClientError,
    CredentialRetrievalError,
    HTTPClientError,
    NoCredentialsError,
    PartialCredentialsError,
    ProfileNotFound,
    SSOError,
    TokenRetrievalError,
)
from botocore.exceptions import (
    ConnectionError as BotoConnectionError,
)

from keel.paths import PROJECT_ROOT

if TYPE_CHECKING:  # CDK-side config: annotations only (the policy gate's Lambda imports this module)
    from keel.config import EnvironmentConfig

LOCAL_STATE = PROJECT_ROOT / ".keel" / "local.json"
LOCAL_ENVIRONMENT = "local"
FAKE_CREDENTIALS = {"aws_access_key_id": "keel-local", "aws_secret_access_key": "keel-local"}


class NoLocalAwsError(RuntimeError):
    """Environment local was asked for but no local AWS is running."""


def local_endpoint() -> str:
    endpoint = os.environ.get("AWS_ENDPOINT_URL")
    if endpoint:
        return endpoint
    try:
        info = json.loads(LOCAL_STATE.read_text(encoding="utf-8"))
        return f"http://localhost:{int(info['port'])}"
    except (OSError, ValueError, KeyError):
        raise NoLocalAwsError(
            "no local AWS is running: start it with `make local` (or `keel local up`)"
        ) from None


def session_for(config: EnvironmentConfig, *, endpoint_url: str | None = None) -> tuple[Any, str | None]:
    """(boto3 session, endpoint URL or None) for an environment."""
    import boto3

    if config.name == LOCAL_ENVIRONMENT or endpoint_url:
        endpoint = endpoint_url or local_endpoint()
        session = boto3.session.Session(
            aws_access_key_id=FAKE_CREDENTIALS["aws_access_key_id"],
            aws_secret_access_key=FAKE_CREDENTIALS["aws_secret_access_key"],
            region_name=config.region,
        )
        return session, endpoint
    return boto3.session.Session(region_name=config.region), None


def client(config: EnvironmentConfig, service: str, *, endpoint_url: str | None = None) -> Any:
    session, endpoint = session_for(config, endpoint_url=endpoint_url)
    return session.client(service, endpoint_url=endpoint)


# --- what an AWS error means ---------------------------------------------------------------------------
# Standard mode retries throttling (Throttling*, RequestLimitExceeded, TooManyRequests, SlowDown…), HTTP 5xx
# and timeouts with jittered exponential back-off. Only clients whose calls are reads or conditional writes
# use it: a retried write must not do its work twice.
# Built on first use (PEP 562): botocore.config costs ~0.1 s at import, paid by every Lambda cold start that
# only needs `error_kind`.
_MAX_ATTEMPTS = 5


def __getattr__(name: str) -> Any:
    if name == "RETRYING":
        from botocore.config import Config

        value = globals()["RETRYING"] = Config(retries={"mode": "standard", "max_attempts": _MAX_ATTEMPTS})
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


_THROTTLED = {
    "Throttling",
    "ThrottlingException",
    "ThrottledException",
    "RequestThrottled",
    "RequestThrottledException",
    "TooManyRequestsException",
    "RequestLimitExceeded",
    "SlowDown",
    "ProvisionedThroughputExceededException",
    "BandwidthLimitExceeded",
    "PriorRequestNotComplete",
}
_UNAVAILABLE = {
    "ServiceUnavailable",
    "ServiceUnavailableException",
    "InternalFailure",
    "InternalError",
    "InternalServerError",
    "InternalServerException",
    "RequestTimeout",
    "RequestTimeoutException",
}
_DENIED = {"AccessDenied", "AccessDeniedException", "UnauthorizedOperation", "AuthorizationError", "403"}
_NOT_FOUND_SUFFIXES = ("NotFound", "NotFoundException", "NoSuchKey", "NoSuchVersion", "NoSuchBucket")
_CREDENTIALS_REJECTED = {
    "ExpiredToken",
    "ExpiredTokenException",
    "InvalidClientTokenId",
    "UnrecognizedClientException",
    "InvalidAccessKeyId",
    "SignatureDoesNotMatch",
    "AuthFailure",
}

ErrorKind = Literal["transient", "denied", "not-found", "rejected"]


class RetryLaterError(RuntimeError):
    """Not an answer: a service kept failing transiently after the SDK's retries (or a dependency is not
    ready). Nothing is decided; the caller tries again later (a Lambda by failing the invocation)."""


def error_code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code") or "")


def _status(error: ClientError) -> int:
    return int(error.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)


def error_kind(error: BaseException) -> ErrorKind:
    """The meaning of a failed call: transient, denied, not found, or rejected (a bad request, or any other
    answer that retrying will not change)."""
    if isinstance(error, BotoConnectionError | HTTPClientError):
        return "transient"  # no answer at all: timeouts, connection resets
    if not isinstance(error, ClientError):
        return "rejected"
    code, status = error_code(error), _status(error)
    if code in _THROTTLED or code in _UNAVAILABLE or status >= 500 or status == 429:
        return "transient"
    if code in _DENIED:
        return "denied"
    if code == "404" or code.endswith(_NOT_FOUND_SUFFIXES):
        return "not-found"
    return "rejected"


def describe_error(error: BaseException) -> str:
    """One line: the code and the service's message (e.g. `AccessDeniedException: User ... is not ...`)."""
    if isinstance(error, ClientError):
        message = str(error.response.get("Error", {}).get("Message") or "").strip()
        code = error_code(error) or "error"
        return f"{code}: {message}" if message else code
    return f"{type(error).__name__}: {error}"


def retry_later(error: BaseException, doing: str) -> RetryLaterError:
    return RetryLaterError(
        f"{doing} failed transiently after retries ({describe_error(error)}): try again later"
    )


def credentials_problem(error: BaseException) -> str | None:
    """Why an environment's credentials cannot be used, or None if `error` is not about credentials."""
    if isinstance(error, ProfileNotFound):
        return f"unknown AWS profile: {error}"
    if isinstance(error, NoCredentialsError | PartialCredentialsError):
        return f"no usable AWS credentials: {error}"
    if isinstance(error, SSOError | CredentialRetrievalError | TokenRetrievalError):
        return f"AWS credentials could not be obtained: {error}"
    if isinstance(error, ClientError) and error_code(error) in _CREDENTIALS_REJECTED:
        return f"AWS rejected the credentials ({describe_error(error)})"
    return None
