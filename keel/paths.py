"""Where the repository is: the same root `keel.config.PROJECT_ROOT` names, without importing the CDK-side
config (so domain modules a Lambda bundles can use it; in a bundle it is the bundle's root)."""

from __future__ import annotations

from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
