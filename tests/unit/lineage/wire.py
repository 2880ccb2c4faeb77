"""Answers to a JSON-protocol client (SageMaker) on the wire, for what botocore's Stubber cannot show.

The Stubber answers before the request is sent, so botocore's retry handler never sees its errors. `Wire`
answers at `before-send` instead: throttles and 5xx answers then go through the client's real retry
configuration, as AWS's would. Each success is validated against the operation's output shape (as the
Stubber validates), and requests must arrive in the order queued.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

import pytest
from botocore.awsrequest import AWSResponse
from botocore.validate import validate_parameters


class _Body:
    def __init__(self, data: bytes) -> None:
        self.data = data

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self.data


@dataclass
class Wire:
    client: Any
    answers: list[tuple[str, int, dict[str, Any]]] = field(default_factory=list)
    calls: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        service = self.client.meta.service_model.service_id.hyphenize()
        self.client.meta.events.register_first(f"before-send.{service}", self._send)

    def add_response(self, operation: str, response: dict[str, Any]) -> None:
        shape = self.client.meta.service_model.operation_model(operation).output_shape
        if shape is not None:
            validate_parameters(response, shape)
        self.answers.append((operation, 200, response))

    def add_error(self, operation: str, code: str, message: str, status: int) -> None:
        self.client.meta.service_model.operation_model(operation)  # the operation exists
        self.answers.append((operation, status, {"__type": code, "message": message}))

    def assert_no_pending_answers(self) -> None:
        assert not self.answers, f"answers never requested: {[a[0] for a in self.answers]}"

    def _send(self, request: Any, **_: Any) -> AWSResponse:
        target = request.headers.get("X-Amz-Target", b"")
        operation = (target.decode() if isinstance(target, bytes) else target).rsplit(".", 1)[-1]
        self.calls.append(operation)
        assert self.answers, f"unexpected request {operation}"
        expected, status, body = self.answers.pop(0)
        assert operation == expected, f"expected {expected}, got {operation}"
        headers = {"Content-Type": "application/x-amz-json-1.1", "x-amzn-RequestId": "wire"}
        return AWSResponse(request.url, status, headers, _Body(json.dumps(body, default=str).encode()))


def no_backoff(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Record botocore's retry delays instead of sleeping them."""
    delays: list[float] = []
    monkeypatch.setattr("botocore.endpoint.time", SimpleNamespace(sleep=delays.append))
    return delays
