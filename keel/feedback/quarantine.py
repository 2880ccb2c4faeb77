"""Keep what a loop cannot use, with the reason, under `keel.naming.QUARANTINE_PREFIX` of a bucket.

Quarantine notes are named by a hash of their content, so a redelivered event overwrites its own note.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from keel.feedback.ports import Clock, ObjectStore
from keel.naming import QUARANTINE_PREFIX

MAX_KEPT_PAYLOAD_CHARS = 256 * 1024  # an oversized payload is kept truncated, with its size and hash


def kept_payload(payload: Any) -> dict[str, Any]:
    """A JSON-safe, bounded copy of a payload: text (or base64 of bytes), its size and SHA-256."""
    if isinstance(payload, bytes | bytearray):
        raw = bytes(payload)
        try:
            text = raw.decode("utf-8")
            encoding = "utf-8"
        except UnicodeDecodeError:
            text = base64.b64encode(raw).decode()
            encoding = "base64"
    else:
        text = json.dumps(payload, default=str, ensure_ascii=False)
        raw = text.encode()
        encoding = "json"
    return {
        "encoding": encoding,
        "size": len(raw),
        "sha256": hashlib.sha256(raw).hexdigest(),
        "truncated": len(text) > MAX_KEPT_PAYLOAD_CHARS,
        "payload": text[:MAX_KEPT_PAYLOAD_CHARS],
    }


@dataclass
class Quarantine:
    objects: ObjectStore
    bucket: str
    clock: Clock

    def keep(self, source: str, reason: str, payload: Any, **context: Any) -> str:
        """One note (JSON): reason, context and the payload. Returns its S3 URI."""
        note = {"reason": reason, "source": source, **context, "kept": kept_payload(payload)}
        body = json.dumps(note, default=str, indent=1).encode()
        digest = hashlib.sha256(json.dumps([source, reason, note["kept"]["sha256"]]).encode()).hexdigest()
        key = f"{QUARANTINE_PREFIX}{source}/{self.clock():%Y-%m-%d}/{digest[:32]}.json"
        self.objects.put(self.bucket, key, body, content_type="application/json")
        return f"s3://{self.bucket}/{key}"

    def keep_lines(self, source: str, name: str, entries: Sequence[dict[str, Any]]) -> str:
        """Many rejected records in one JSON-lines object (e.g. one per stream micro-batch)."""
        body = "".join(json.dumps(e, default=str, ensure_ascii=False) + "\n" for e in entries).encode()
        key = f"{QUARANTINE_PREFIX}{source}/{self.clock():%Y-%m-%d}/{name}.jsonl"
        self.objects.put(self.bucket, key, body, content_type="application/x-ndjson")
        return f"s3://{self.bucket}/{key}"
