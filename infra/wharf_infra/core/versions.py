"""Chart and image versions, read from `infra/versions.toml` (their one home)."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import cache
from typing import Any

from wharf_infra.core.paths import REPO_ROOT, VERSIONS_FILE


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
    native: dict[str, str]  # what the native stack obtains where no image version can be used as is
    toolchain: dict[str, str]  # tools wharf builds for itself
    built: dict[str, dict[str, Any]]  # the images wharf builds: parent, replaces, recipe inputs

    @property
    def kubernetes_schemas(self) -> str:
        """The schema set objects validate against: published per minor version (`1.34.0`)."""
        return ".".join(self.kubernetes.split(".")[:2]) + ".0"

    def toolchain_version(self, name: str) -> str:
        """The version of a tool wharf builds: Kubernetes' is the top-level pin, Go-style."""
        return f"v{self.kubernetes}" if name == "kubernetes" else self.toolchain[name]

    def chart(self, name: str) -> Chart:
        return self.charts[name]

    def image(self, name: str) -> str:
        return self.images[name]

    def image_parts(self, name: str) -> tuple[str, str]:
        """(repository, tag) of an image; a pinned digest stays with the tag (`tag@sha256:…`)."""
        repository, _, tag = self.images[name].partition("@")[0].rpartition(":")
        digest = self.images[name].partition("@")[2]
        return repository, f"{tag}@{digest}" if digest else tag

    def image_values(self, name: str) -> dict[str, str]:
        """`{repository, tag}`, the way most charts take an image."""
        repository, tag = self.image_parts(name)
        return {"repository": repository, "tag": tag}

    def image_version(self, name: str) -> str:
        """The version an image runs: its tag without a digest."""
        return self.image_parts(name)[1].partition("@")[0]


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
        native=dict(raw["native"]),
        toolchain=dict(raw["toolchain"]),
        built=dict(raw["built"]),
    )


def locked_version(package: str) -> str:
    """The version of `package` in uv.lock: what the workspace and the images built from it install."""
    lock = tomllib.loads((REPO_ROOT / "uv.lock").read_text())
    return str(next(p["version"] for p in lock["package"] if p["name"] == package))
