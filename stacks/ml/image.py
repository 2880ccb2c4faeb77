"""The step image: Keel's own (the SageMaker sklearn image lacks Great Expectations), built from
`pipeline_steps/image/Dockerfile` as an ECR asset at deploy time — or a pre-built URI from config, which is
how environments without Docker (local, CI) and pinned production images work."""

from __future__ import annotations

import re

from aws_cdk import aws_ecr_assets as ecr_assets
from constructs import Construct

from keel.config import PROJECT_ROOT, EnvironmentConfig
from keel.naming import partition

DOCKERFILE = "pipeline_steps/image/Dockerfile"
# Only what the image needs goes into the build context (and so into the asset hash).
_CONTEXT_EXCLUDES = [
    ".git",
    ".venv",
    "node_modules",
    ".keel",
    "cdk.out*",
    "tests",
    "bench",
    "data",
    "stacks",
    "lambdas",
    "**/__pycache__",
    "*.md",
]


class StepImage(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, config: EnvironmentConfig) -> None:
        super().__init__(scope, construct_id)
        if config.training.image_uri:
            self.image_uri: str = config.training.image_uri
            match = re.match(
                r"^(\d{12})\.dkr\.ecr\.([a-z0-9-]+)\.amazonaws\.com(?:\.cn)?/([^:@]+)", self.image_uri
            )
            assert match, self.image_uri  # the config model validated the shape
            account, region, repository = match.groups()
            self.repository_arn = f"arn:{partition(config)}:ecr:{region}:{account}:repository/{repository}"
            self.asset: ecr_assets.DockerImageAsset | None = None
            return
        self.asset = ecr_assets.DockerImageAsset(
            self,
            "Asset",
            directory=str(PROJECT_ROOT),
            file=DOCKERFILE,
            exclude=_CONTEXT_EXCLUDES,
            platform=ecr_assets.Platform.LINUX_AMD64,
        )
        self.image_uri = self.asset.image_uri
        self.repository_arn = self.asset.repository.repository_arn
