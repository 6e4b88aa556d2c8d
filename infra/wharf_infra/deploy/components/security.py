"""The security and resource settings every container wharf writes itself carries."""

from __future__ import annotations

from typing import Any

WHARF_USER = 10001  # the user wharf's own containers run as, where an image names none


def pod_security(user: int = WHARF_USER, group: int = WHARF_USER) -> dict[str, Any]:
    return {
        "runAsNonRoot": True,
        "runAsUser": user,
        "runAsGroup": group,
        "fsGroup": group,
        "seccompProfile": {"type": "RuntimeDefault"},
    }


def container_security(read_only_root: bool = True) -> dict[str, Any]:
    return {
        "allowPrivilegeEscalation": False,
        "privileged": False,
        "runAsNonRoot": True,
        "readOnlyRootFilesystem": read_only_root,
        "capabilities": {"drop": ["ALL"]},
    }


def resources(
    cpu: str, memory: str, cpu_limit: str | None = None, memory_limit: str | None = None
) -> dict[str, Any]:
    return {
        "requests": {"cpu": cpu, "memory": memory},
        "limits": {"cpu": cpu_limit or cpu, "memory": memory_limit or memory},
    }
