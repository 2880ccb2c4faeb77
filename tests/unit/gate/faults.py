"""Test doubles for the AWS calls the gate makes, written to the service models.

- `stubbed(service)`: a real boto3 client with botocore's `Stubber` (requests validated against the model,
  responses validated against the output shapes). Stubbed answers do not pass through the client's retry
  handler: a stubbed ThrottlingException stands for one that outlasted the retries.
- `failing(client, operation, code, ...)`: one operation of a (moto-backed) client answers a service error,
  the way the Stubber injects it (after parameter validation); every other operation reaches moto.
- `without_fields(client, operation, ...)`: an operation's answer lacks optional fields (AWS may omit them).
- `http_answers(client, {operation: answers})`: the HTTP answers of operations, below the retry handler, to
  show that the client's retry mode retries what it should.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import boto3
from botocore.awsrequest import AWSResponse
from botocore.stub import Stubber

from keel.aws import RETRYING

REGION = "us-east-1"
_ids = itertools.count()


@contextmanager
def stubbed(service: str) -> Iterator[tuple[Any, Stubber]]:
    client = boto3.session.Session(region_name=REGION).client(service, config=RETRYING)  # type: ignore[call-overload]
    with Stubber(client) as stubber:
        yield client, stubber
        stubber.assert_no_pending_responses()


def _event(client: Any, operation: str, stage: str) -> str:
    return f"{stage}.{client.meta.service_model.service_id.hyphenize()}.{operation}"


@contextmanager
def failing(
    client: Any,
    operation: str,
    code: str,
    *,
    status: int,
    message: str = "injected by the test",
    when: Callable[[dict[str, Any]], bool] = lambda params: True,
) -> Iterator[list[dict[str, Any]]]:
    """Calls of `operation` whose API params satisfy `when` fail with `code`; yields their params."""
    calls: list[dict[str, Any]] = []

    def keep_params(params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        context["keel_api_params"] = dict(params)

    def answer(context: dict[str, Any], **_: Any) -> tuple[AWSResponse, dict[str, Any]] | None:
        params = context.get("keel_api_params", {})
        if not when(params):
            return None
        calls.append(params)
        parsed = {"Error": {"Code": code, "Message": message}, "ResponseMetadata": {"HTTPStatusCode": status}}
        return AWSResponse(None, status, {}, None), parsed  # type: ignore[arg-type]

    with _registered(client, operation, ("before-parameter-build", keep_params), ("before-call", answer)):
        yield calls


@contextmanager
def without_fields(client: Any, operation: str, *fields: str) -> Iterator[None]:
    """`operation` answers without these (optional) output fields, as the service may."""

    def drop(parsed: dict[str, Any], **_: Any) -> None:
        for name in fields:
            parsed.pop(name, None)

    with _registered(client, operation, ("after-call", drop)):
        yield


@contextmanager
def _registered(client: Any, operation: str, *handlers: tuple[str, Callable[..., Any]]) -> Iterator[None]:
    done = []
    for stage, handler in handlers:
        event, unique = _event(client, operation, stage), f"keel-fault-{next(_ids)}"
        client.meta.events.register(event, handler, unique_id=unique)
        done.append((event, unique))
    try:
        yield
    finally:
        for event, unique in done:
            client.meta.events.unregister(event, unique_id=unique)


class _Raw:
    def __init__(self, body: bytes) -> None:
        self._body = body

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self._body


def json_answer(status: int, body: dict[str, Any], *, error_type: str | None = None) -> AWSResponse:
    headers = {"Content-Type": "application/json"}
    if error_type:
        headers["x-amzn-ErrorType"] = error_type
    raw = _Raw(json.dumps(body).encode())
    return AWSResponse("https://stub.invalid/", status, headers, raw)  # type: ignore[arg-type]


@contextmanager
def http_answers(client: Any, answers: dict[str, list[AWSResponse]]) -> Iterator[list[float]]:
    """The next HTTP answers of each operation, in order (nothing leaves the process); yields the back-off
    delays the retry handler asked for (the sleeps themselves are skipped)."""
    import botocore.endpoint

    pending = {operation: list(responses) for operation, responses in answers.items()}
    delays: list[float] = []
    registered = []
    for operation in pending:

        def send(operation: str = operation, **_: Any) -> AWSResponse:
            return pending[operation].pop(0)

        event, unique = _event(client, operation, "before-send"), f"keel-http-{next(_ids)}"
        client.meta.events.register(event, send, unique_id=unique)
        registered.append((event, unique))
    original, botocore.endpoint.time.sleep = botocore.endpoint.time.sleep, delays.append  # type: ignore[attr-defined]
    try:
        yield delays
    finally:
        botocore.endpoint.time.sleep = original  # type: ignore[attr-defined]
        for event, unique in registered:
            client.meta.events.unregister(event, unique_id=unique)
    left = {operation: len(responses) for operation, responses in pending.items() if responses}
    assert not left, f"HTTP answers never requested: {left}"
