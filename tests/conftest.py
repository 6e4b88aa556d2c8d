"""Each test tier is a folder; a test's tier marker comes from the folder it lives in."""

from pathlib import Path

import pytest

TIERS = ("unit", "infra", "images", "cluster", "integration", "smoke")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        tier = Path(item.fspath).relative_to(Path(__file__).parent).parts[0]
        if tier in TIERS:
            item.add_marker(getattr(pytest.mark, tier))
