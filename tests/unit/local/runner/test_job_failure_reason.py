"""What a failed local job reports, as SageMaker builds it: the container's own words, first KB."""

from __future__ import annotations

from pathlib import Path

from keel.local.runner.jobs import GENERIC_REASON, REASON_LIMIT, failure_reason


def test_the_exit_message_of_a_processing_job_is_its_reason(tmp_path: Path) -> None:
    (tmp_path / "opt/ml/output").mkdir(parents=True)
    (tmp_path / "opt/ml/output/message").write_text("validation failed: 2 of 39 expectation(s) failed\n")
    assert failure_reason(tmp_path, 1) == "AlgorithmError: validation failed: 2 of 39 expectation(s) failed"


def test_the_failure_file_of_a_training_job_is_its_reason_cut_to_a_kilobyte(tmp_path: Path) -> None:
    (tmp_path / "opt/ml/output").mkdir(parents=True)
    (tmp_path / "opt/ml/output/failure").write_text("train: " + "x" * 5000)
    reason = failure_reason(tmp_path, 2)
    assert reason.startswith("AlgorithmError: train: xxx") and len(reason) == REASON_LIMIT


def test_without_the_containers_words_the_reason_is_sagemakers_generic_one(tmp_path: Path) -> None:
    assert failure_reason(tmp_path, 137) == f"{GENERIC_REASON} (exit code 137)"
