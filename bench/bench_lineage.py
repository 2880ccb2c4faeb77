"""Lineage pack latency: one model version's pack (JSON + HTML) in an account (moto, in-process) holding 50
model versions and 200 pipeline executions (goal < 2 s); and the reverse lookup over all 200 records.

The account is built the way the local runner leaves it (tests/unit/gate/world.py): every execution writes
its lineage record and reports, every fourth registers a model version; the versions measured have gate
decisions and an endpoint. Times are the median of a few repeats; setup is not timed.
"""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Callable

EXECUTIONS, MODEL_VERSIONS, REPEATS = 200, 50, 5
GOAL_SECONDS = 2.0


def _median(action: Callable[[], object]) -> tuple[float, object]:
    times, result = [], None
    for _ in range(REPEATS):
        started = time.perf_counter()
        result = action()
        times.append(time.perf_counter() - started)
    return statistics.median(times), result


def run() -> dict[str, object]:
    for key, value in {
        "AWS_ACCESS_KEY_ID": "bench",
        "AWS_SECRET_ACCESS_KEY": "bench",
        "AWS_DEFAULT_REGION": "us-east-1",
        "SAGEMAKER_VALIDATE_ROLE": "false",
    }.items():
        os.environ.setdefault(key, value)
    os.environ.pop("AWS_ENDPOINT_URL", None)
    from moto import mock_aws

    from keel.gate.decide import gate_model_package
    from keel.lineage.html import render_html
    from keel.lineage.pack import PackSources, SageMakerEndpointDeployments, build_pack
    from keel.lineage.reverse import models_trained_on
    from keel.lineage.tracking import SageMakerLineageTracking, register
    from tests.unit.gate.world import World, definition_template, keel_config

    definition_template("local")
    with mock_aws():
        setup_started = time.perf_counter()
        world = World(keel_config("local"))
        shared_key = "landing/wine_quality/ingest_date=2026-11-01/wine.csv"
        runs = [
            world.train(
                register=index % (EXECUTIONS // MODEL_VERSIONS) == 0,
                input_key=shared_key if index % 10 == 0 else f"landing/wine_quality/batch={index}/wine.csv",
                accuracy=0.62 if index % 3 else 0.4,
            )
            for index in range(EXECUTIONS)
        ]
        registered = [r for r in runs if r.model_package_arn]
        target = registered[len(registered) // 2]
        gate_model_package(world.deps(), target.model_package_arn)
        world.sagemaker.create_model(
            ModelName="bench-model",
            PrimaryContainer={"ModelPackageName": target.model_package_arn},
            ExecutionRoleArn="arn:aws:iam::123456789012:role/bench",
        )
        world.sagemaker.create_endpoint_config(
            EndpointConfigName="bench-config",
            ProductionVariants=[
                {
                    "VariantName": "AllTraffic",
                    "ModelName": "bench-model",
                    "InitialInstanceCount": 1,
                    "InstanceType": "ml.m5.large",
                }
            ],
        )
        world.sagemaker.create_endpoint(EndpointName="bench-endpoint", EndpointConfigName="bench-config")
        setup_seconds = time.perf_counter() - setup_started
        sources = PackSources(
            world.settings, world.sagemaker, world.s3, SageMakerEndpointDeployments(world.sagemaker)
        )
        tracker = SageMakerLineageTracking(world.sagemaker)

        def pack_and_page() -> tuple[object, str]:
            pack = register(build_pack(sources, target.model_package_arn), tracker)
            return pack, render_html(pack)

        pack_seconds, (pack, page) = _median(pack_and_page)  # type: ignore[misc]
        reverse_seconds, lookup = _median(
            lambda: models_trained_on(
                world.settings, s3=world.s3, sagemaker=world.sagemaker, dataset_uri=runs[0].input_uri
            )
        )
    return {
        "executions": EXECUTIONS,
        "model_versions": len(registered),
        "setup_s": round(setup_seconds, 1),
        "pack_json_and_html_s": round(pack_seconds, 3),
        "goal_s": GOAL_SECONDS,
        "within_goal": pack_seconds < GOAL_SECONDS,
        "pack_gate_decisions": len(pack.gate_decisions),  # type: ignore[attr-defined]
        "pack_deployments": len(pack.deployments or []),  # type: ignore[attr-defined]
        "pack_tracking": pack.tracking.status,  # type: ignore[attr-defined]
        "html_kb": round(len(page) / 1024, 1),
        "reverse_lookup_over_all_records_s": round(reverse_seconds, 3),
        "reverse_lookup_model_versions": len(lookup.as_dict()["model_versions"]),  # type: ignore[attr-defined]
    }
