"""A Helm release of an upstream chart, pinned in versions.toml, with wharf's merged values.

The chart comes from its pinned repository, or from the stack's `chartsDir` (the charts unpacked
in a folder) where the repositories cannot be reached; a folder whose chart is not at the pinned
version is refused, so both sources deploy the same chart.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pulumi
import pulumi_kubernetes as k8s
import yaml

from wharf_infra.config import PLATFORM_KEY
from wharf_infra.helm_values import chart_values
from wharf_infra.versions import Chart, versions


class ChartSourceError(ValueError):
    """The local chart folder does not hold the pinned chart."""


def local_chart(charts_dir: Path, pinned: Chart) -> Path:
    """`<charts_dir>/<chart>`, checked to be the pinned version."""
    folder = charts_dir / pinned.name
    metadata = folder / "Chart.yaml"
    if not metadata.is_file():
        raise ChartSourceError(f"chartsDir {charts_dir} has no {pinned.name}/Chart.yaml")
    found = str(yaml.safe_load(metadata.read_text()).get("version"))
    if found.removeprefix("v") != pinned.version.removeprefix("v"):
        raise ChartSourceError(
            f"{metadata} is version {found}, but infra/versions.toml pins {pinned.version}: "
            "unpack the pinned chart there or drop chartsDir"
        )
    return folder


def _source(pinned: Chart) -> dict[str, Any]:
    charts_dir = (pulumi.Config().get_object(PLATFORM_KEY) or {}).get("chartsDir")
    if charts_dir:
        return {"chart": str(local_chart(Path(charts_dir), pinned))}
    if pinned.is_oci:
        return {"chart": f"{pinned.repo}/{pinned.name}", "version": pinned.version}
    return {
        "chart": pinned.name,
        "version": pinned.version,
        "repository_opts": k8s.helm.v3.RepositoryOptsArgs(repo=pinned.repo),
    }


def helm_release(
    chart: str, name: str, namespace: str, stack: str, computed: dict[str, Any], opts: pulumi.ResourceOptions
) -> k8s.helm.v3.Release:
    """Install `chart` as release `name` (a fixed name, so Service names are predictable)."""
    return k8s.helm.v3.Release(
        name,
        name=name,
        namespace=namespace,
        values=chart_values(chart, stack, computed),
        atomic=True,
        cleanup_on_fail=True,
        timeout=900,
        opts=opts,
        **_source(versions().chart(chart)),
    )
