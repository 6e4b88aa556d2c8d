"""A Helm release of an upstream chart, pinned in versions.toml, with wharf's merged values."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from wharf_infra.deploy.chart_source import chart_source
from wharf_infra.deploy.components.component import child_name
from wharf_infra.deploy.helm_values import chart_values


@dataclass(frozen=True)
class Charts:
    """How a stack installs charts: with its values overlay (`helm/<chart>/values-<stack>.yaml`),
    from `folder` (the charts unpacked, where repositories cannot be reached) or the repositories."""

    stack: str
    folder: Path | None = None


def helm_release(
    chart: str,
    name: str,
    namespace: str,
    charts: Charts,
    computed: dict[str, Any],
    opts: pulumi.ResourceOptions,
) -> k8s.helm.v3.Release:
    """Install `chart` as release `name` (a fixed name, so Service names are predictable), with
    `computed` merged over the chart's overlays in helm/."""
    return release_with_values(
        chart, name, namespace, charts, chart_values(chart, charts.stack, computed), opts
    )


def release_with_values(
    chart: str,
    name: str,
    namespace: str,
    charts: Charts,
    values: dict[str, Any],
    opts: pulumi.ResourceOptions,
) -> k8s.helm.v3.Release:
    """`helm_release` with its values merged already (for a component that reads them too)."""
    source = chart_source(chart, charts.folder)
    logical, opts = child_name(name, opts)
    return k8s.helm.v3.Release(
        logical,
        name=name,
        namespace=namespace,
        values=values,
        atomic=True,
        cleanup_on_fail=True,
        timeout=900,
        opts=opts,
        chart=source.chart,
        version=source.version,
        repository_opts=k8s.helm.v3.RepositoryOptsArgs(repo=source.repo) if source.repo else None,
    )
