"""An action the local AWS does not implement answers HTTP 501 `NotImplemented`, naming the action.

moto raises NotImplementedError, which its server turns into an HTTP 500 page: botocore reads that as a
transient service failure and retries it (standard mode: five attempts with back-off), so a client that
handles real failures correctly spent seconds per call before reporting "InternalFailure". AWS never answers
501 for a modelled action; 501 here is the emulator saying plainly that it lacks the API (not retried by
botocore's retry modes), with the action in the message.
"""

from __future__ import annotations

import json
from typing import Any

from moto.core.responses import BaseResponse

from keel.local.extensions import Extension

STATUS = 501
CODE = "NotImplemented"

_original_call_action = BaseResponse.call_action


def _body(response: BaseResponse, message: str) -> tuple[dict[str, str], str]:
    if response.headers.get("X-Amz-Target") or "json" in str(response.headers.get("Content-Type", "")):
        return {"Content-Type": "application/x-amz-json-1.1"}, json.dumps(
            {"__type": CODE, "message": message}
        )
    xml = (
        f"<ErrorResponse><Error><Type>Sender</Type><Code>{CODE}</Code><Message>{message}</Message></Error>"
        "<RequestId>keel-local</RequestId></ErrorResponse>"
    )
    return {"Content-Type": "text/xml"}, xml


def call_action(self: BaseResponse) -> Any:
    try:
        return _original_call_action(self)
    except NotImplementedError as error:
        message = f"the local AWS does not implement this ({self.service_name}): {error}"
        headers, body = _body(self, message.replace("<", "").replace(">", ""))
        return STATUS, {**headers, "status": str(STATUS)}, body


def install() -> None:
    BaseResponse.call_action = call_action  # type: ignore[method-assign]


EXTENSION = Extension(
    name="unimplemented-actions",
    kind="fix",
    what="an action moto does not implement answers HTTP 501 NotImplemented naming the action",
    why="moto's server answered HTTP 500, which clients rightly retry as a transient failure (seconds lost "
    "per call) and report as InternalFailure",
    upstream=True,
    install=install,
)
