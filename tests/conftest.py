"""Each test tier is a folder; a test's tier marker comes from the folder it lives in.

Tiers run cheapest first, and those that start containers before the native stack's. One cluster
tier runs: kind's where a Docker engine answers or can be installed (its pods run the platform's
images, and it makes every check kwok's tier makes on the stored objects), else kwok's.
"""

from pathlib import Path

import pytest

from wharf_infra.build.docker_engine import engine_obtainable

TIERS = ("unit", "infra", "images", "kind", "cluster", "integration", "smoke")


def _tier(item: pytest.Item) -> str:
    return Path(item.fspath).relative_to(Path(__file__).parent).parts[0]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if (tier := _tier(item)) in TIERS:
            item.add_marker(getattr(pytest.mark, tier))
    items.sort(key=lambda item: TIERS.index(t) if (t := _tier(item)) in TIERS else len(TIERS))


class _OneClusterTier:
    """Runs after `-m` has selected: drops kwok's tier when kind's was selected and can run."""

    @pytest.hookimpl(trylast=True)
    def pytest_collection_modifyitems(self, config: pytest.Config, items: list[pytest.Item]) -> None:
        tiers = {_tier(item) for item in items}
        if not {"kind", "cluster"} <= tiers or not engine_obtainable():
            return
        kwok = [item for item in items if _tier(item) == "cluster"]
        config.hook.pytest_deselected(items=kwok)
        items[:] = [item for item in items if _tier(item) != "cluster"]
        reporter = config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None:
            reporter.write_line(f"kind's tier runs here: kwok's {len(kwok)} deselected (make test-cluster)")


def pytest_configure(config: pytest.Config) -> None:
    config.pluginmanager.register(_OneClusterTier(), "wharf-one-cluster-tier")
