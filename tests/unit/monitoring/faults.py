"""Error injection below botocore: a client answers chosen HTTP errors, as the service would send them, before
moto answers the rest. The errors go through botocore's parsers and its retry handler (a Stubber would bypass
both), so retries, error codes and messages are what a deployed function sees."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from botocore.awsrequest import AWSResponse


class _Body:
    def __init__(self, content: bytes) -> None:
        self._content = content

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self._content


@dataclass(frozen=True)
class HttpError:
    status: int
    code: str
    message: str

    def response(self, protocol: str, url: str) -> AWSResponse:
        headers = {"x-amzn-RequestId": "fault-injected", "x-amz-request-id": "fault-injected"}
        if protocol in ("json", "rest-json"):
            body = json.dumps({"__type": self.code, "message": self.message}).encode()
            headers["Content-Type"] = "application/x-amz-json-1.1"
        else:
            body = (
                f'<?xml version="1.0" encoding="UTF-8"?><Error><Code>{self.code}</Code>'
                f"<Message>{self.message}</Message><RequestId>fault-injected</RequestId></Error>"
            ).encode()
            headers["Content-Type"] = "application/xml"
        return AWSResponse(url, self.status, headers, _Body(body))


THROTTLED = HttpError(400, "ThrottlingException", "Rate exceeded")
SLOW_DOWN = HttpError(503, "SlowDown", "Please reduce your request rate.")
INTERNAL = HttpError(500, "InternalFailure", "We encountered an internal error. Please try again.")


@dataclass
class Faults:
    """The first `len(errors)` calls of `operation` answer these errors (or every call, with `always`)."""

    client: Any
    operation: str
    errors: list[HttpError]
    always: bool = False
    calls: int = field(default=0, init=False)

    def __post_init__(self) -> None:
        service = self.client.meta.service_model.service_id.hyphenize()
        # register_first: moto's own before-send handler would otherwise answer first.
        self.client.meta.events.register_first(f"before-send.{service}.{self.operation}", self._send)

    def _send(self, request: Any, **_: Any) -> AWSResponse | None:
        self.calls += 1
        if self.always or self.calls <= len(self.errors):
            error = self.errors[min(self.calls, len(self.errors)) - 1]
            return error.response(self.client.meta.service_model.protocol, request.url)
        return None
