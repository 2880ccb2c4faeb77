"""`make local`'s scenario: Keel's production loop on the deployed local platform (see `story`)."""

from keel.scenario.platform import LocalPlatform
from keel.scenario.story import ScenarioSummary, run_scenario

__all__ = ["LocalPlatform", "ScenarioSummary", "run_scenario"]
