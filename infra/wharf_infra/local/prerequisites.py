"""The laptop's tools for `make cluster`, checked before anything is created.

Each problem names the tool, what wharf needs it for, and how to get it; the minimum versions live in
`infra/versions.toml` (`[tools]`).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Iterable
from dataclasses import dataclass

from wharf_infra.core.versions import versions

VERSION_TIMEOUT_S = 30


@dataclass(frozen=True)
class Tool:
    name: str
    version_argv: tuple[str, ...]
    version_pattern: str  # a regular expression whose first group is the version
    purpose: str
    install: str


DOCKER = Tool(
    "docker",
    ("docker", "version", "--format", "{{.Server.Version}}"),
    r"^v?(\d+\.\d+(?:\.\d+)?)",
    "runs the kind node and builds the code-location images",
    "install Docker Desktop or Docker Engine (https://docs.docker.com/get-docker/)",
)
TOOLS: tuple[Tool, ...] = (
    DOCKER,
    Tool(
        "kind",
        ("kind", "version"),
        r"\bv(\d+\.\d+\.\d+)",
        "creates the local cluster",
        "`go install sigs.k8s.io/kind@v{minimum}` or https://kind.sigs.k8s.io/docs/user/quick-start/#installation",
    ),
    Tool(
        "kubectl",
        ("kubectl", "version", "--client", "-o", "json"),
        r'"gitVersion":\s*"v(\d+\.\d+\.\d+)',
        "waits for the pods and reads the generated login",
        "https://kubernetes.io/docs/tasks/tools/ (any release from {minimum} on)",
    ),
    Tool(
        "helm",
        ("helm", "version", "--short"),
        r"\bv(\d+\.\d+\.\d+)",
        "checks that every chart release is deployed",
        "https://helm.sh/docs/intro/install/",
    ),
    Tool(
        "pulumi",
        ("pulumi", "version"),
        r"\bv(\d+\.\d+\.\d+)",
        "deploys the cluster and platform stacks",
        "https://www.pulumi.com/docs/iac/download-install/ (`curl -fsSL https://get.pulumi.com | sh`)",
    ),
)


def version_tuple(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in text.split("."))


def parse_version(tool: Tool, output: str) -> str | None:
    match = re.search(tool.version_pattern, output.strip(), re.MULTILINE)
    return match.group(1) if match else None


def _problem(tool: Tool, minimum: str, path: str | None) -> str | None:
    install = tool.install.format(minimum=minimum)
    if shutil.which(tool.name, path=path) is None:
        return f"{tool.name} not found on PATH: it {tool.purpose}. Install {minimum} or newer: {install}"
    try:
        result = subprocess.run(
            tool.version_argv,
            capture_output=True,
            text=True,
            timeout=VERSION_TIMEOUT_S,
            check=False,
            env={**os.environ, "PATH": path} if path is not None else None,
        )
    except subprocess.TimeoutExpired:
        return f"`{' '.join(tool.version_argv)}` did not answer in {VERSION_TIMEOUT_S} s"
    if result.returncode != 0:
        detail = (result.stderr.strip().splitlines() or ["no output"])[-1]
        if tool is DOCKER:
            return (
                f"the Docker engine is not running (`docker version` could not reach it: {detail}). "
                "Start Docker Desktop, or `sudo systemctl start docker`, and retry."
            )
        return f"`{' '.join(tool.version_argv)}` failed: {detail}"
    found = parse_version(tool, result.stdout)
    if found is None:
        return f"could not read the {tool.name} version from `{' '.join(tool.version_argv)}`"
    if version_tuple(found) < version_tuple(minimum):
        return (
            f"{tool.name} {found} is older than {minimum}, the minimum in infra/versions.toml [tools]. "
            f"Upgrade: {install}"
        )
    return None


def problems(tools: Iterable[Tool], path: str | None = None) -> list[str]:
    """Every missing, stopped or too-old tool on `path` (default: PATH), each as one sentence;
    empty when all is well."""
    minimums = versions().tools
    return [p for tool in tools if (p := _problem(tool, minimums[tool.name], path)) is not None]


def summary(tools: Iterable[Tool]) -> str:
    minimums = versions().tools
    return ", ".join(f"{t.name} >= {minimums[t.name]}" for t in tools)
