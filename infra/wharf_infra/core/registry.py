"""The code-location registry (`code_locations/registry.toml`): the single list every consumer reads."""

from __future__ import annotations

import argparse
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from wharf_infra.core.paths import CODE_LOCATIONS_DIR, REGISTRY_FILE


class RegistryError(ValueError):
    """The registry file is malformed; the message names the entry and the key."""


@dataclass(frozen=True)
class ResourceSpec:
    cpu: str
    memory: str


@dataclass(frozen=True)
class CodeLocation:
    name: str
    package: str
    module: str
    port: int
    requests: ResourceSpec
    limits: ResourceSpec
    extra_paths: tuple[str, ...] = ()

    @property
    def source_dir(self) -> Path:
        return CODE_LOCATIONS_DIR / self.package

    def run_k8s_resources(self) -> dict[str, dict[str, str]]:
        """The `resources` block of a Kubernetes container spec for this location's run pods."""
        return {
            "requests": {"cpu": self.requests.cpu, "memory": self.requests.memory},
            "limits": {"cpu": self.limits.cpu, "memory": self.limits.memory},
        }


def _resource_spec(entry: dict[str, Any], where: str, kind: str) -> ResourceSpec:
    block = entry.get("run_resources", {}).get(kind)
    if not isinstance(block, dict) or not {"cpu", "memory"} <= block.keys():
        raise RegistryError(f"{where}: run_resources.{kind} needs both 'cpu' and 'memory'")
    return ResourceSpec(cpu=str(block["cpu"]), memory=str(block["memory"]))


def _parse(entry: dict[str, Any], index: int) -> CodeLocation:
    where = f"{REGISTRY_FILE.name} location #{index + 1} ({entry.get('name', '?')})"
    for key, kind in (("name", str), ("package", str), ("module", str), ("port", int)):
        if not isinstance(entry.get(key), kind):
            raise RegistryError(f"{where}: '{key}' must be a {kind.__name__}")
    return CodeLocation(
        name=entry["name"],
        package=entry["package"],
        module=entry["module"],
        port=entry["port"],
        requests=_resource_spec(entry, where, "requests"),
        limits=_resource_spec(entry, where, "limits"),
        extra_paths=tuple(entry.get("extra_paths", ())),
    )


def load_registry(path: Path = REGISTRY_FILE) -> tuple[CodeLocation, ...]:
    """Read and check the registry: unique names and ports, every field present."""
    with path.open("rb") as handle:
        entries = tomllib.load(handle).get("location", [])
    locations = tuple(_parse(entry, i) for i, entry in enumerate(entries))
    for attribute in ("name", "port", "module"):
        values = [getattr(loc, attribute) for loc in locations]
        duplicated = {v for v in values if values.count(v) > 1}
        if duplicated:
            raise RegistryError(f"{path.name}: duplicate {attribute} {sorted(map(str, duplicated))}")
    if not locations:
        raise RegistryError(f"{path.name}: no [[location]] entries")
    return locations


def workspace(locations: tuple[CodeLocation, ...]) -> dict[str, Any]:
    """The `workspace.yaml` that `dagster dev` loads: every location from its Python module."""
    return {
        "load_from": [
            {"python_module": {"module_name": loc.module, "location_name": loc.name}} for loc in locations
        ]
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("workspace", help="print the dagster workspace.yaml")
    sub.add_parser("names", help="print the location names, one a line")
    args = parser.parse_args(argv)
    locations = load_registry()
    if args.command == "workspace":
        yaml.safe_dump(workspace(locations), sys.stdout, sort_keys=False)
    else:
        print("\n".join(loc.name for loc in locations))


if __name__ == "__main__":
    main()
