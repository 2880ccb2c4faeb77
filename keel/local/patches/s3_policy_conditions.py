"""S3 bucket policies evaluated with their `Condition`s (see `keel.local.policy_eval`).

moto ignored conditions it did not know (e.g. `Bool`), so the CDK's enforce-SSL statement
(Deny when `aws:SecureTransport` is false) denied everything, including the CDK CLI's own asset uploads.

Request context on the local server: `aws:SecureTransport` is "true" and `s3:TlsVersion` "1.3" — the
local endpoint is plain HTTP on loopback and stands in for the TLS endpoint of S3, so policies that
require TLS behave as they do for any client of real S3 (which only offers TLS to the SDKs);
`aws:SourceIp` is the client address; `aws:PrincipalAccount` the bucket owner's account (every local
caller uses the local account); `s3:x-amz-*` keys come from the request headers.
"""

from __future__ import annotations

import json
import threading
from typing import Any

from moto.iam.access_control import PermissionResult
from moto.s3.models import FakeBucket
from moto.s3.responses import S3Response

from keel.local.extensions import Extension
from keel.local.policy_eval import evaluate

SECURE_TRANSPORT = "true"
TLS_VERSION = "1.3"
_HEADER_KEYS = (
    "x-amz-server-side-encryption",
    "x-amz-server-side-encryption-aws-kms-key-id",
    "x-amz-acl",
    "x-amz-storage-class",
    "x-amz-object-lock-mode",
)
_request = threading.local()  # the S3 request being handled on this thread


def request_context(bucket: FakeBucket) -> dict[str, str]:
    context = {
        "aws:SecureTransport": SECURE_TRANSPORT,
        "s3:TlsVersion": TLS_VERSION,
        "aws:PrincipalAccount": bucket.account_id,
    }
    request = getattr(_request, "value", None)
    if request is not None:
        headers = request.headers
        for header in _HEADER_KEYS:
            if headers.get(header) is not None:
                context[f"s3:{header}"] = headers[header]
        remote = getattr(request, "remote_addr", None)
        if remote:
            context["aws:SourceIp"] = remote
    return context


def get_permission(self: FakeBucket, action: str, resource: str) -> Any:
    if self.policy is None:
        return PermissionResult.NEUTRAL
    decision = evaluate(json.loads(self.policy.decode()), action, resource, request_context(self))
    if decision == "Deny":
        return PermissionResult.DENIED
    return PermissionResult.PERMITTED if decision == "Allow" else PermissionResult.NEUTRAL


def install() -> None:
    original_setup = S3Response.setup_class

    def setup_class(self: S3Response, request: Any, *args: Any, **kwargs: Any) -> None:
        _request.value = request
        original_setup(self, request, *args, **kwargs)

    S3Response.setup_class = setup_class  # type: ignore[method-assign]
    FakeBucket.get_permission = get_permission  # type: ignore[method-assign]


EXTENSION = Extension(
    name="s3-policy-conditions",
    kind="fix",
    what="bucket policies honour Condition (String*, Arn*, Numeric*, Bool, IpAddress, Null, ...IfExists); "
    "the local endpoint counts as secure transport (TLS 1.3)",
    why="the CDK's enforce-SSL deny blocked the CLI's own asset uploads (403)",
    upstream=True,
    install=install,
)
