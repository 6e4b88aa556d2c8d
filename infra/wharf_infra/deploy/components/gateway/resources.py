"""The gateway's custom resources, named and labelled one way."""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from wharf_infra.deploy.components.component import child_name
from wharf_infra.deploy.labels import metadata

COMPONENT = "gateway"


def custom(
    name: str,
    api_version: str,
    kind: str,
    namespace: str | None,
    spec: dict[str, Any],
    opts: pulumi.ResourceOptions,
) -> k8s.apiextensions.CustomResource:
    """A namespaced (or, with `namespace` None, cluster-scoped) custom resource of the gateway."""
    meta = metadata(name, namespace or "", COMPONENT)
    if namespace is None:
        meta.pop("namespace")
    logical, opts = child_name(f"{kind.lower()}-{name}", opts)
    return k8s.apiextensions.CustomResource(
        logical, api_version=api_version, kind=kind, metadata=meta, spec=spec, opts=opts
    )
