"""Tools wharf builds for itself from the Go module proxy, pinned in versions.toml `[toolchain]`."""

from __future__ import annotations

from pathlib import Path

from wharf_infra.native.fetch import go_binary
from wharf_infra.versions import versions


def helm() -> Path:
    """The pinned helm, built once into the cache (a few minutes cold)."""
    return go_binary("helm.sh/helm/v3/cmd/helm", versions().toolchain["helm"], "helm")
