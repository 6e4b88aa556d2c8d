"""Each test tier is a folder; a test's tier marker comes from the folder it lives in.

Tiers run cheapest first, and those that start containers before the native stack's.
"""

from pathlib import Path

import pytest

TIERS = ("unit", "infra", "images", "kind", "cluster", "integration", "smoke")


def _tier(item: pytest.Item) -> str:
    return Path(item.fspath).relative_to(Path(__file__).parent).parts[0]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if (tier := _tier(item)) in TIERS:
            item.add_marker(getattr(pytest.mark, tier))
    items.sort(key=lambda item: TIERS.index(t) if (t := _tier(item)) in TIERS else len(TIERS))
