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

from wharf_infra.charts import pinned_chart_folder
from wharf_infra.config import PLATFORM_KEY
from wharf_infra.helm_values import chart_values
from wharf_infra.versions import Chart, versions


def _source(pinned: Chart) -> dict[str, Any]:
    charts_dir = (pulumi.Config().get_object(PLATFORM_KEY) or {}).get("chartsDir")
    if charts_dir:
        return {"chart": str(pinned_chart_folder(Path(charts_dir), pinned.name))}
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
