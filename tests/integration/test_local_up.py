"""`keel local up` end to end: Keel's real CDK app (app.py) bootstrapped and deployed into a fresh local
AWS with the CDK CLI, and every deployed resource found through its service API.

Opt-in (KEEL_TEST_LOCAL_UP=1): synthesizing the whole app costs 40-100 s on two cores, more than the
suite's budget allows; `make local` exercises the same path.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from keel.cli import main
from keel.config import PROJECT_ROOT
from keel.local import inventory, process
from keel.local.cdk import CDK_BIN

pytestmark = [
    pytest.mark.integration,
    pytest.mark.slow,
    pytest.mark.skipif(
        not (PROJECT_ROOT / "app.py").exists(), reason="Keel's CDK app (app.py) does not exist yet"
    ),
    pytest.mark.skipif(not CDK_BIN.exists(), reason="the pinned CDK CLI is not installed (npm ci)"),
    pytest.mark.skipif(
        os.environ.get("KEEL_TEST_LOCAL_UP") != "1", reason="opt-in: set KEEL_TEST_LOCAL_UP=1"
    ),
]


def test_keel_local_up_deploys_every_stack(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv(process.STATE_DIR_ENV, str(tmp_path / "state"))
    try:
        code = main(["local", "up", "--output", str(tmp_path / "cdk.out")])
        out = capsys.readouterr().out
        assert code == 0, out
        server = process.status(process.default_paths())
        assert server is not None
        clients = inventory.Clients(server.endpoint_url, server.region)
        stacks = clients.cloudformation.describe_stacks()["Stacks"]
        assert {s["StackName"] for s in stacks} >= {"CDKToolkit", "Keel-local-Security", "Keel-local-Data"}
        assert all(s["StackStatus"] in ("CREATE_COMPLETE", "UPDATE_COMPLETE") for s in stacks)
        rows = inventory.collect(clients)
        assert rows
        missing = [row for row in rows if row.facts.startswith("MISSING")]
        assert not missing, inventory.render(missing)
        assert "Deployed resources, as the service APIs report them" in out
    finally:
        main(["local", "down"])
