"""Each test tier is a folder; a test's tier marker comes from the folder it lives in.

Tiers run cheapest first, and those that start containers before the native stack's. One cluster
tier runs: kind's where a Docker engine answers or can be installed (its pods run the platform's
images, and it makes every check kwok's tier makes on the stored objects), else kwok's. The smoke
suite runs once too: kind's tier runs it against the cluster with nothing skipped, so the native
stack's run of it is left out then (the integration tier proves the native data path); without
kind, the suite runs against the native stack.
"""

from pathlib import Path

import pytest

from wharf_infra.build.docker_engine import engine_obtainable

TIERS = ("unit", "infra", "images", "kind", "cluster", "integration", "smoke")
KIND_RUNS_THEM = ("cluster", "smoke")  # kwok's checks, and the smoke suite on the cluster


def _tier(item: pytest.Item) -> str:
    return Path(item.fspath).relative_to(Path(__file__).parent).parts[0]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if (tier := _tier(item)) in TIERS:
            item.add_marker(getattr(pytest.mark, tier))
    items.sort(key=lambda item: TIERS.index(t) if (t := _tier(item)) in TIERS else len(TIERS))


class _OneClusterTier:
    """Runs after `-m` has selected: where kind's tier was selected and can run, drops kwok's tier
    and the native run of the smoke suite (kind's tier runs the suite on the cluster)."""

    @pytest.hookimpl(trylast=True)
    def pytest_collection_modifyitems(self, config: pytest.Config, items: list[pytest.Item]) -> None:
        tiers = {_tier(item) for item in items}
        if "kind" not in tiers or not tiers & set(KIND_RUNS_THEM) or not engine_obtainable():
            return
        dropped = [item for item in items if _tier(item) in KIND_RUNS_THEM]
        config.hook.pytest_deselected(items=dropped)
        items[:] = [item for item in items if _tier(item) not in KIND_RUNS_THEM]
        reporter = config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None:
            counts = {tier: sum(_tier(item) == tier for item in dropped) for tier in KIND_RUNS_THEM}
            reporter.write_line(
                f"kind's tier runs here: kwok's {counts['cluster']} deselected (make test-cluster), and the "
                f"native stack's smoke run of {counts['smoke']} (kind's tier runs the suite; make smoke)"
            )


def pytest_configure(config: pytest.Config) -> None:
    config.pluginmanager.register(_OneClusterTier(), "wharf-one-cluster-tier")
