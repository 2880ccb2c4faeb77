"""What the lineage recorder is told at deploy time: the code and contract this deployment ships (the record
of every run names them), and the events it listens to."""

from __future__ import annotations

from keel.contract import DatasetContract
from keel.lineage.assemble import TERMINAL_STATUSES
from keel.lineage.record import contract_sha256, git_version, source_sha256
from keel.monitoring.pipeline_events import PIPELINE_STATUS_DETAIL_TYPE

__all__ = ["PIPELINE_STATUS_DETAIL_TYPE", "TERMINAL_STATUSES", "deployed_code_environment"]


def deployed_code_environment(contract: DatasetContract) -> dict[str, str]:
    """The recorder's KEEL_LINEAGE_* variables (read back by lambdas/lineage_recorder)."""
    commit, dirty = git_version()
    return {
        "KEEL_LINEAGE_CONTRACT_NAME": contract.name,
        "KEEL_LINEAGE_CONTRACT_VERSION": contract.version,
        "KEEL_LINEAGE_CONTRACT_SHA256": contract_sha256(contract.name),
        "KEEL_LINEAGE_GIT_COMMIT": commit or "",
        "KEEL_LINEAGE_GIT_DIRTY": "" if dirty is None else str(dirty).lower(),
        "KEEL_LINEAGE_SOURCE_SHA256": source_sha256(),
    }
