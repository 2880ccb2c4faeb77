"""Scripts that run inside Keel's SageMaker jobs: validate, preprocess, train, evaluate, drift.

Each is `main(argv) -> int` over pure functions in `keel.*` or here; every path is an argument defaulting
to the SageMaker container contract (`container`), so the local runner can map them to local folders.
"""
