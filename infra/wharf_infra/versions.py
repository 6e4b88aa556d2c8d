"""Chart and image versions, read from `infra/versions.toml` (their one home)."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import cache

from wharf_infra.paths import VERSIONS_FILE


@dataclass(frozen=True)
class Chart:
    name: str
    repo: str
    version: str

    @property
    def is_oci(self) -> bool:
        return self.repo.startswith("oci://")


@dataclass(frozen=True)
class Versions:
    kubernetes: str
    kind_node_image: str
    charts: dict[str, Chart]
    images: dict[str, str]
    tools: dict[str, str]  # minimum versions of the laptop's tools for `make cluster`

    def chart(self, name: str) -> Chart:
        return self.charts[name]

    def image(self, name: str) -> str:
        return self.images[name]


@cache
def versions() -> Versions:
    with VERSIONS_FILE.open("rb") as handle:
        raw = tomllib.load(handle)
    return Versions(
        kubernetes=raw["kubernetes"],
        kind_node_image=raw["kind_node_image"],
        charts={name: Chart(name=name, **spec) for name, spec in raw["charts"].items()},
        images=dict(raw["images"]),
        tools=dict(raw["tools"]),
    )
