"""Unit-tier fixtures: the embedded profile in a fresh folder per test, and an ephemeral instance."""

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dagster as dg
import pytest

from wharf_shared.profiles import shared_resources


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("WHARF_PROFILE", "embedded")
    monkeypatch.setenv("WHARF_DATA_DIR", str(tmp_path))
    return tmp_path


@pytest.fixture
def resources(data_dir: Path) -> dict[str, Any]:
    """The shared resources of the embedded profile, rooted in this test's folder."""
    return shared_resources("embedded")


@pytest.fixture
def instance() -> Iterator[dg.DagsterInstance]:
    with dg.instance_for_test() as test_instance:
        yield test_instance
