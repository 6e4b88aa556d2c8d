"""A Helm release of an upstream chart, pinned in versions.toml, with wharf's merged values."""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from wharf_infra.helm_values import chart_values
from wharf_infra.versions import versions


def helm_release(
    chart: str, name: str, namespace: str, stack: str, computed: dict[str, Any], opts: pulumi.ResourceOptions
) -> k8s.helm.v3.Release:
    """Install `chart` as release `name` (a fixed name, so Service names are predictable)."""
    pinned = versions().chart(chart)
    source: dict[str, Any] = (
        {"chart": f"{pinned.repo}/{chart}"}
        if pinned.is_oci
        else {"chart": chart, "repository_opts": k8s.helm.v3.RepositoryOptsArgs(repo=pinned.repo)}
    )
    return k8s.helm.v3.Release(
        name,
        name=name,
        namespace=namespace,
        version=pinned.version,
        values=chart_values(chart, stack, computed),
        atomic=True,
        cleanup_on_fail=True,
        timeout=900,
        opts=opts,
        **source,
    )
