"""The real CDK CLI against the local AWS: bootstrap, deploy --all, no-change deploy, diff, update, destroy.

Running the Python app costs 5-10 s per CLI call, so both versions of the app (cdk_app/app.py) are
synthesized once, in parallel with the bootstrap, exactly as the CLI runs an app (CDK_OUTDIR,
CDK_CONTEXT_JSON); every CLI call then reads a cloud assembly (`--app <dir>`).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from keel.local.cdk import CDK_BIN, CdkCli

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(not CDK_BIN.exists(), reason="the pinned CDK CLI is not installed (npm ci)"),
]
APP_DIR = Path(__file__).with_name("cdk_app")


def _status(cfn: Any, stack: str) -> str:
    return str(cfn.describe_stacks(StackName=stack)["Stacks"][0]["StackStatus"])


def _outputs(cfn: Any, stack: str) -> dict[str, str]:
    outputs = cfn.describe_stacks(StackName=stack)["Stacks"][0].get("Outputs") or []
    return {o["OutputKey"]: o["OutputValue"] for o in outputs}


def _resource(cfn: Any, stack: str, resource_type: str) -> str:
    resources = cfn.list_stack_resources(StackName=stack)["StackResourceSummaries"]
    return str(next(r["PhysicalResourceId"] for r in resources if r["ResourceType"] == resource_type))


def _log_group(logs: Any, name: str) -> dict[str, Any]:
    return dict(
        next(
            g
            for g in logs.describe_log_groups(logGroupNamePrefix=name)["logGroups"]
            if g["logGroupName"] == name
        )
    )


def _synthesize(assembly: Path, context: dict[str, str]) -> subprocess.Popen[bytes]:
    environment = os.environ | {"CDK_OUTDIR": str(assembly), "CDK_CONTEXT_JSON": json.dumps(context)}
    return subprocess.Popen(
        [sys.executable, "app.py"],
        cwd=APP_DIR,
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def test_cdk_cli_lifecycle(moto_server: Any, tmp_path: Path) -> None:
    cfn, s3, kms, logs, sns = (moto_server.client(s) for s in ("cloudformation", "s3", "kms", "logs", "sns"))
    suffix = uuid.uuid4().hex[:6]
    base, consumer = f"KeelCliBase-{suffix}", f"KeelCliConsumer-{suffix}"
    synths = {v: _synthesize(tmp_path / f"v{v}", {"suffix": suffix, "version": str(v)}) for v in (1, 2)}

    def cli(version: int | None) -> CdkCli:
        return CdkCli(
            moto_server.endpoint_url,
            moto_server.account_id,
            moto_server.region,
            output_dir=tmp_path / f"out{version}",
            app_dir=tmp_path,  # no cdk.json there: bootstrap must not wait for an app
            app=str(tmp_path / f"v{version}") if version else None,
        )

    v1, v2 = cli(1), cli(2)
    timings: dict[str, float] = {}

    def timed(step: str, cli: CdkCli, *args: str) -> str:
        started = time.monotonic()
        result = cli.run(*args, capture=True)
        timings[step] = round(time.monotonic() - started, 1)
        return result.stdout + result.stderr

    timed("bootstrap", cli(None), "bootstrap", f"aws://{moto_server.account_id}/{moto_server.region}")
    assert _status(cfn, "CDKToolkit") in ("CREATE_COMPLETE", "UPDATE_COMPLETE")
    started = time.monotonic()
    for process in synths.values():
        _, errors = process.communicate(timeout=120)
        assert process.returncode == 0, errors.decode()
    timings["synth (after bootstrap)"] = round(time.monotonic() - started, 1)

    timed("deploy", v1, "deploy", "--all", "--require-approval", "never")
    assert _status(cfn, base) == _status(cfn, consumer) == "CREATE_COMPLETE"
    bucket = _outputs(cfn, base)["BucketName"]
    key_id = _resource(cfn, base, "AWS::KMS::Key")
    key_arn = kms.describe_key(KeyId=key_id)["KeyMetadata"]["Arn"]
    assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Enabled"
    sse = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"][0]
    assert sse["ApplyServerSideEncryptionByDefault"]["KMSMasterKeyID"] == key_arn
    policy = s3.get_bucket_policy(Bucket=bucket)["Policy"]
    assert "aws:SecureTransport" in policy
    assert kms.get_key_rotation_status(KeyId=key_id)["KeyRotationEnabled"] is True
    topic = _resource(cfn, consumer, "AWS::SNS::Topic")
    assert (
        sns.get_topic_attributes(TopicArn=topic)["Attributes"]["KmsMasterKeyId"] == key_arn
    )  # via the export
    log_group = _resource(cfn, consumer, "AWS::Logs::LogGroup")
    assert _log_group(logs, log_group)["kmsKeyId"] == key_arn
    assert _log_group(logs, log_group)["retentionInDays"] == 7

    output = timed("no-change deploy", v1, "deploy", "--all", "--require-approval", "never")
    assert output.count("(no changes)") == 2
    assert _status(cfn, consumer) == "CREATE_COMPLETE"

    output = timed("diff", v2, "diff", "--all")
    assert "RetentionInDays" in output
    assert "There were no differences" in output  # the base stack is unchanged

    timed("update", v2, "deploy", "--all", "--require-approval", "never")
    assert _status(cfn, consumer) == "UPDATE_COMPLETE"
    assert _log_group(logs, log_group)["retentionInDays"] == 14

    s3.put_object(Bucket=bucket, Key="data.csv", Body=b"a,b\n", ServerSideEncryption="aws:kms")
    timed("destroy", v2, "destroy", "--all", "--force")
    for stack in (base, consumer):
        with pytest.raises(ClientError, match="does not exist"):
            cfn.describe_stacks(StackName=stack)
    with pytest.raises(ClientError):  # emptied by the auto-delete custom resource, then deleted
        s3.head_bucket(Bucket=bucket)
    assert kms.describe_key(KeyId=key_id)["KeyMetadata"]["KeyState"] == "PendingDeletion"
    assert topic not in [t["TopicArn"] for t in sns.list_topics()["Topics"]]
    assert not logs.describe_log_groups(logGroupNamePrefix=log_group)["logGroups"]
    print("CDK CLI timings (s):", json.dumps(timings))
