"""`Custom::S3AutoDeleteObjects` (CDK `auto_delete_objects=True`): empty the bucket before it is deleted.

Same contract as the CDK's handler: only a bucket still tagged `aws-cdk:auto-delete-objects=true` is
emptied (every object version and delete marker), on Delete, and on an Update that moves to a new bucket.
"""

from __future__ import annotations

from typing import Any

AUTO_DELETE_TAG = "aws-cdk:auto-delete-objects"


def _tagged(s3: Any, bucket: str) -> bool:
    try:
        tags = s3.get_bucket_tagging(Bucket=bucket)["TagSet"]
    except s3.exceptions.ClientError:
        return False
    return any(tag["Key"] == AUTO_DELETE_TAG and tag["Value"] == "true" for tag in tags)


def empty_bucket(s3: Any, bucket: str) -> int:
    deleted = 0
    paginator = s3.get_paginator("list_object_versions")
    for page in paginator.paginate(Bucket=bucket):
        objects = [
            {"Key": item["Key"], "VersionId": item["VersionId"]}
            for item in [*page.get("Versions", []), *page.get("DeleteMarkers", [])]
        ]
        if objects:
            s3.delete_objects(Bucket=bucket, Delete={"Objects": objects, "Quiet": True})
            deleted += len(objects)
    return deleted


def on_event(event: dict[str, Any], s3: Any) -> dict[str, Any]:
    bucket = event["ResourceProperties"]["BucketName"]
    request = event["RequestType"]
    if request == "Delete" and _tagged(s3, bucket):
        empty_bucket(s3, bucket)
    if request == "Update":
        old_bucket = event.get("OldResourceProperties", {}).get("BucketName")
        if old_bucket and old_bucket != bucket and _tagged(s3, old_bucket):
            empty_bucket(s3, old_bucket)
    return {"PhysicalResourceId": event.get("PhysicalResourceId") or bucket, "Data": {}}
