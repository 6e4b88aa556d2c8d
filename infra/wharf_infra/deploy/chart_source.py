"""Where a pinned chart comes from: a folder of unpacked charts, or its pinned repository.

A folder whose chart is not at the version `infra/versions.toml` pins is refused, so both sources
give the same chart. `pulumi up` (the Helm releases) and `make render` (`helm template`) both ask here.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

from wharf_infra.core.versions import versions


class ChartSourceError(ValueError):
    """A chart folder does not hold the pinned chart."""


@dataclass(frozen=True)
class ChartSource:
    chart: str  # an unpacked chart's folder, an OCI reference, or a chart name in `repo`
    version: str | None  # the pinned version; None for a folder (its Chart.yaml was checked)
    repo: str | None = None  # a classic Helm repository; None for a folder or an OCI reference


def pinned_chart_folder(charts_dir: Path, chart: str) -> Path:
    """`<charts_dir>/<chart>`, checked to hold the version versions.toml pins."""
    pinned = versions().chart(chart).version
    metadata = charts_dir / chart / "Chart.yaml"
    if not metadata.is_file():
        raise ChartSourceError(f"{charts_dir} has no {chart}/Chart.yaml")
    found = str(yaml.safe_load(metadata.read_text()).get("version"))
    if found.removeprefix("v") != pinned.removeprefix("v"):
        raise ChartSourceError(
            f"{metadata} is version {found}, but infra/versions.toml pins {pinned}: "
            "unpack the pinned chart there"
        )
    return metadata.parent


def chart_source(chart: str, charts_dir: Path | None) -> ChartSource:
    """The pinned `chart` from `charts_dir` when one is given, else from its pinned repository."""
    pinned = versions().chart(chart)
    if charts_dir is not None:
        return ChartSource(str(pinned_chart_folder(charts_dir, chart)), None)
    if pinned.is_oci:
        return ChartSource(f"{pinned.repo}/{pinned.name}", pinned.version)
    return ChartSource(pinned.name, pinned.version, pinned.repo)


def helm_cli_args(source: ChartSource) -> list[str]:
    """The chart arguments of `helm template` / `helm install` for `source`."""
    return [
        source.chart,
        *(["--repo", source.repo] if source.repo else []),
        *(["--version", source.version] if source.version else []),
    ]
