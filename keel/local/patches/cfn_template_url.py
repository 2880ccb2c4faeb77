"""TemplateURL / S3 URLs that point at the local server by IP (http://127.0.0.1:PORT/bucket/key).

moto resolves path-style URLs only for hosts containing "localhost" and otherwise takes the first host
label as the bucket ("127"), so stacks deployed against an IP endpoint failed to read their template.
"""

from __future__ import annotations

import ipaddress
from urllib.parse import urlparse

from moto.cloudformation import models, responses, utils
from moto.s3.models import s3_backends

from keel.local.extensions import Extension

_original = utils.get_stack_from_s3_url


def _is_local_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def get_stack_from_s3_url(template_url: str, account_id: str, partition: str) -> str:
    parts = urlparse(template_url)
    if _is_local_ip(parts.hostname or ""):
        bucket_name, key_name = parts.path.lstrip("/").split("/", 1)
        key = s3_backends[account_id][partition].get_object(bucket_name, key_name)
        return key.value.decode("utf-8")  # type: ignore[union-attr]
    return _original(template_url, account_id, partition)


def install() -> None:
    for module in (utils, models, responses):
        module.get_stack_from_s3_url = get_stack_from_s3_url  # type: ignore[attr-defined]


EXTENSION = Extension(
    name="cfn-template-url-ip",
    kind="fix",
    what="S3 URLs with an IP host (http://127.0.0.1:PORT/bucket/key) are read path-style",
    why="moto took the first host label as bucket name; only `localhost` endpoints worked",
    upstream=True,
    install=install,
)
