"""The workload policy every object wharf deploys must meet, as functions that list violations.

The infra tier applies them to what `make render` produced (wharf's objects and `helm template` of
each chart); the cluster tier applies the same functions to the objects as the API server stored
them after the real `pulumi up`, defaults filled in.
"""

from __future__ import annotations

import re
import tomllib
from typing import Any

from wharf_infra.core.image_tags import content_tag, recipe_tag, recipes
from wharf_infra.core.paths import VERSIONS_FILE
from wharf_infra.core.registry import load_registry
from wharf_infra.deploy.components.namespaces import KUBE_SYSTEM
from wharf_infra.deploy.components.policy_enforcer import NAME as POLICY_ENFORCER
from wharf_infra.verify.render import pod_specs

PINNED = re.compile(r"^[^:@\s]+(:[A-Za-z0-9._-]+(@sha256:[0-9a-f]{64})?|@sha256:[0-9a-f]{64})$")


def containers(obj: dict[str, Any]) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """(pod spec, container) for every container and init container of a workload."""
    return [(pod, c) for pod in pod_specs(obj) for c in (*pod.get("initContainers", []), *pod["containers"])]


def _name(obj: dict[str, Any], container: dict[str, Any]) -> str:
    return f"{obj['kind']}/{obj['metadata']['name']}/{container['name']}"


def resource_violations(obj: dict[str, Any]) -> list[str]:
    """Containers without cpu and memory requests and limits."""
    found = []
    for _, container in containers(obj):
        resources = container.get("resources") or {}
        for kind in ("requests", "limits"):
            if not {"cpu", "memory"} <= (resources.get(kind) or {}).keys():
                found.append(f"{_name(obj, container)}: no cpu/memory {kind}")
    return found


# Node agents that must run as root (in kube-system, never in the platform's namespaces), and why.
ROOT_NODE_AGENTS = {
    (KUBE_SYSTEM, POLICY_ENFORCER): "programs the node's netfilter (it refuses to start as another user); "
    "it keeps only NET_ADMIN and NET_RAW",
}


def privilege_violations(obj: dict[str, Any]) -> list[str]:
    """Containers that may run as root, escalate, run privileged, keep capabilities or lack the
    seccomp profile: what PodSecurity `restricted` refuses, checked before any API server does."""
    found = []
    meta = obj.get("metadata", {})
    root_allowed = (meta.get("namespace"), meta.get("name")) in ROOT_NODE_AGENTS
    for pod, container in containers(obj):
        context = {**(pod.get("securityContext") or {}), **(container.get("securityContext") or {})}
        name = _name(obj, container)
        if context.get("runAsNonRoot") is not True and not root_allowed:
            found.append(f"{name}: runAsNonRoot is not true")
        if context.get("allowPrivilegeEscalation") is not False:
            found.append(f"{name}: allowPrivilegeEscalation is not false")
        if context.get("privileged", False) is not False:
            found.append(f"{name}: privileged")
        if "ALL" not in (context.get("capabilities") or {}).get("drop", []):
            found.append(f"{name}: capabilities not dropped")
        if (context.get("seccompProfile") or {}).get("type") not in ("RuntimeDefault", "Localhost"):
            found.append(f"{name}: no seccomp profile (PodSecurity `restricted` refuses the pod)")
    return found


def pinned_images() -> set[str]:
    """Every image versions.toml pins, and the content-tagged name of each image wharf builds (the
    code locations, and the recipes a stack with `images: built` runs)."""
    pinned = set(tomllib.loads(VERSIONS_FILE.read_text())["images"].values())
    built = {f"wharf-{name}:{recipe_tag(name)}" for name in recipes()}
    return pinned | built | {f"wharf-{loc.name}:{content_tag(loc)}" for loc in load_registry()}


def is_pinned(image: str, pinned: set[str]) -> bool:
    """Pinned in versions.toml, or one of wharf's content-tagged images under any registry."""
    return image in pinned or image.rsplit("/", 1)[-1] in pinned


def image_violations(obj: dict[str, Any], pinned: set[str]) -> list[str]:
    """Images not pinned to a tag or digest, or not from versions.toml / the location registry."""
    found = []
    for _, container in containers(obj):
        image = container["image"]
        if not PINNED.match(image) or image.endswith(":latest"):
            found.append(f"{_name(obj, container)}: {image} is not pinned")
        elif not is_pinned(image, pinned):
            found.append(f"{_name(obj, container)}: {image} is not in {VERSIONS_FILE.name}")
    return found
