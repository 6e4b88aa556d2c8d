"""The code-location registry: its contract, and that every entry is a real location."""

import importlib
from pathlib import Path

import dagster as dg
import pytest

from wharf_infra.core.registry import RegistryError, load_registry, workspace

LOCATIONS = load_registry()


def test_registry_lists_the_three_locations() -> None:
    assert [loc.name for loc in LOCATIONS] == ["weather", "bioreactor", "analytics"]


@pytest.mark.parametrize("location", LOCATIONS, ids=lambda loc: loc.name)
def test_each_entry_is_a_workspace_member_with_definitions(location) -> None:  # type: ignore[no-untyped-def]
    assert (location.source_dir / "pyproject.toml").is_file()
    module = importlib.import_module(location.module)
    assert isinstance(module.defs, dg.Definitions)


def test_workspace_loads_every_location_by_module() -> None:
    loaded = workspace(LOCATIONS)["load_from"]
    assert [entry["python_module"]["location_name"] for entry in loaded] == [loc.name for loc in LOCATIONS]
    assert [entry["python_module"]["module_name"] for entry in loaded] == [loc.module for loc in LOCATIONS]


def test_run_resources_become_a_container_resources_block() -> None:
    weather = LOCATIONS[0]
    assert weather.run_k8s_resources() == {
        "requests": {"cpu": weather.requests.cpu, "memory": weather.requests.memory},
        "limits": {"cpu": weather.limits.cpu, "memory": weather.limits.memory},
    }


ENTRY = """
[[location]]
name = "{name}"
package = "p"
module = "{module}"
port = {port}
run_resources = {{ requests = {{ cpu = "1", memory = "1Gi" }}, limits = {{ cpu = "1", memory = "1Gi" }} }}
"""


def test_duplicate_port_is_refused_with_its_value(tmp_path: Path) -> None:
    path = tmp_path / "registry.toml"
    path.write_text(
        ENTRY.format(name="a", module="a.d", port=4000) + ENTRY.format(name="b", module="b.d", port=4000)
    )
    with pytest.raises(RegistryError, match=r"duplicate port \['4000'\]"):
        load_registry(path)


def test_missing_resources_name_the_entry_and_key(tmp_path: Path) -> None:
    path = tmp_path / "registry.toml"
    path.write_text('[[location]]\nname = "x"\npackage = "x"\nmodule = "x.d"\nport = 1\n')
    with pytest.raises(RegistryError, match=r"location #1 \(x\): run_resources.requests"):
        load_registry(path)
