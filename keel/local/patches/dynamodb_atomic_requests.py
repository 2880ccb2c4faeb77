"""DynamoDB requests are applied one at a time, as each is atomic in DynamoDB.

moto's server handles requests on several threads, and its DynamoDB backend checks a condition and then
writes, in Python, without a lock; TransactWriteItems deep-copies the tables it touches for its rollback. Two
concurrent conditional writes could then both succeed (a lost update DynamoDB never allows), and concurrent
transactions failed with HTTP 500. Serialising the requests restores DynamoDB's per-request atomicity; the
interleaving of requests stays free.
"""

from __future__ import annotations

import threading
from typing import Any

from moto.dynamodb.responses import DynamoHandler

from keel.local.extensions import Extension

_lock = threading.Lock()
_original_call_action = DynamoHandler.call_action


def call_action(self: DynamoHandler) -> Any:
    with _lock:
        return _original_call_action(self)


def install() -> None:
    DynamoHandler.call_action = call_action  # type: ignore[method-assign]


EXTENSION = Extension(
    name="dynamodb-atomic-requests",
    kind="fix",
    what="each DynamoDB request is applied atomically (requests serialised by a lock in the server)",
    why="moto checked conditions and wrote without a lock on the server's threads: concurrent conditional "
    "writes could both succeed, and concurrent transactions answered HTTP 500",
    upstream=True,
    install=install,
)
