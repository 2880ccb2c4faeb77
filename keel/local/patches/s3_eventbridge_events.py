"""S3's EventBridge events in the shape AWS documents (Amazon S3 User Guide, "EventBridge event message
structure"): `etag` (moto: `eTag`), `reason` the API that caused it (`PutObject`, `POST Object`,
`CopyObject`, `CompleteMultipartUpload`, `DeleteObject`; moto: `ObjectCreated`), `deletion-type` on Object
Deleted, no `version-id` for an unversioned object, an ISO 8601 `time` (moto: a Unix time), a fresh event id
per event (moto: one fixed id), the requester being the account, and the default bus only (S3 sends to no
other bus).
"""

from __future__ import annotations

import logging
import time
from typing import Any

from moto.s3 import notifications

from keel.local.extensions import Extension
from keel.local.service_events import emit

LOGGER = logging.getLogger(__name__)

# s3:<event> notification names -> the API name S3 puts in `reason`.
REASONS = {
    "s3:ObjectCreated:Put": "PutObject",
    "s3:ObjectCreated:Post": "POST Object",
    "s3:ObjectCreated:Copy": "CopyObject",
    "s3:ObjectCreated:CompleteMultipartUpload": "CompleteMultipartUpload",
    "s3:ObjectRemoved:Delete": "DeleteObject",
    "s3:ObjectRemoved:DeleteMarkerCreated": "DeleteObject",
    "s3:LifecycleExpiration:Delete": "Lifecycle Expiration",
    "s3:LifecycleExpiration:DeleteMarkerCreated": "Lifecycle Expiration",
    "s3:ObjectTagging:Put": "PutObjectTagging",
    "s3:ObjectTagging:Delete": "DeleteObjectTagging",
}
DELETION_TYPES = {"Delete": "Permanently Deleted", "DeleteMarkerCreated": "Delete Marker Created"}


def event_detail(account_id: str, bucket_name: str, event_name: str, key: Any) -> dict[str, Any]:
    # S3's sequencer: a hex string that orders the events of one key (time-based here).
    obj: dict[str, Any] = {"key": key.name, "sequencer": f"{time.time_ns() // 1000:016X}"}
    deleted = "ObjectRemoved" in event_name or "LifecycleExpiration" in event_name
    if not deleted:
        obj["size"] = key.size
        obj["etag"] = str(key.etag).replace('"', "")
    version = getattr(key, "version_id", None)
    if version and version != "null":
        obj["version-id"] = version
    detail: dict[str, Any] = {
        "version": "0",
        "bucket": {"name": bucket_name},
        "object": obj,
        "request-id": "KEELLOCAL0000000",
        "requester": account_id,
        "source-ip-address": "127.0.0.1",
        "reason": REASONS.get(event_name, event_name.split(":", 1)[-1]),
    }
    if deleted:
        detail["deletion-type"] = DELETION_TYPES.get(event_name.rsplit(":", 1)[-1], "Permanently Deleted")
    return detail


def _untagged(account_id: str, bucket: Any, key: Any) -> bool:
    from moto.s3.models import s3_backends

    backend = s3_backends[account_id][bucket.partition]
    return not backend.tagger.list_tags_for_resource(key.arn).get("Tags")


def send_event_bridge_message(account_id: str, bucket: Any, event_name: str, key: Any) -> None:
    try:
        if event_name == "s3:ObjectTagging:Put" and _untagged(account_id, bucket, key):
            return  # moto tags every PutObject, even with no tags: AWS sends no event then
        emit(
            account_id,
            bucket.region_name,
            source="aws.s3",
            detail_type=notifications._detail_type(event_name),
            detail=event_detail(account_id, bucket.name, event_name, key),
            resources=[bucket.arn],
        )
    except Exception:  # S3 sends these asynchronously: a failed event never fails the S3 request
        LOGGER.warning("S3 event %s for %s could not be sent", event_name, bucket.name, exc_info=True)


def install() -> None:
    notifications._send_event_bridge_message = send_event_bridge_message


EXTENSION = Extension(
    name="s3-eventbridge-events",
    kind="fix",
    what="S3 EventBridge events as AWS documents them: etag, reason = the API (PutObject …), deletion-type, "
    "ISO time, a fresh id per event, version-id only for versioned objects, default bus only",
    why="moto sent eTag, reason ObjectCreated, a Unix time, one fixed event id (so consumers keyed on the id "
    "saw every object as a duplicate) and an Object Tags Added event after every PutObject; still missing: "
    "no event for the delete marker that DeleteObject creates in a versioned bucket",
    upstream=True,
    install=install,
)
