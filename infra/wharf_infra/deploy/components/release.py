"""A Helm release of an upstream chart, pinned in versions.toml, with wharf's merged values."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pulumi
import pulumi_kubernetes as k8s
import yaml

from wharf_infra.deploy.chart_source import chart_source
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
    """Install `chart` as release `name` (a fixed name, so Service names are predictable)."""
    source = chart_source(chart, charts.folder)
    values, removed = without_nulls(chart_values(chart, charts.stack, computed))
    return k8s.helm.v3.Release(
        name,
        name=name,
        namespace=namespace,
        values=values,
        # A null removes a chart default (Trino's TPC catalogs). Nulls among `values` do not reach
        # Helm through Pulumi's inputs, so they travel as a values file, which the provider merges
        # under `values` and keeps because nulls are allowed.
        value_yaml_files=[pulumi.StringAsset(yaml.safe_dump(removed))] if removed else None,
        allow_null_values=True,
        atomic=True,
        cleanup_on_fail=True,
        timeout=900,
        opts=opts,
        chart=source.chart,
        version=source.version,
        repository_opts=k8s.helm.v3.RepositoryOptsArgs(repo=source.repo) if source.repo else None,
    )


def without_nulls(values: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """`values` without its null entries, and those entries alone (the chart defaults to remove)."""
    kept: dict[str, Any] = {}
    removed: dict[str, Any] = {}
    for key, value in values.items():
        if value is None:
            removed[key] = None
        elif isinstance(value, dict):
            kept[key], inner = without_nulls(value)
            if inner:
                removed[key] = inner
        else:
            kept[key] = value
    return kept, removed
