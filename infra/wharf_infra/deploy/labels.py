"""Kubernetes' recommended labels, the same way on every object wharf creates."""

from __future__ import annotations

from typing import Any

PART_OF = "wharf"
MANAGED_BY = "pulumi"


def labels(name: str, component: str, version: str | None = None) -> dict[str, str]:
    result = {
        "app.kubernetes.io/name": name,
        "app.kubernetes.io/instance": name,
        "app.kubernetes.io/component": component,
        "app.kubernetes.io/part-of": PART_OF,
        "app.kubernetes.io/managed-by": MANAGED_BY,
    }
    if version:
        result["app.kubernetes.io/version"] = version[:63]
    return result


def selector(name: str) -> dict[str, str]:
    """The stable subset used in selectors (selectors are immutable; versions are not)."""
    return {"app.kubernetes.io/name": name, "app.kubernetes.io/instance": name}


def metadata(
    name: str, namespace: str, component: str, version: str | None = None, **extra: Any
) -> dict[str, Any]:
    return {"name": name, "namespace": namespace, "labels": labels(name, component, version), **extra}
