"""The steps of `make cluster` and `make destroy` on kind: the platform in Docker containers.

wharf's own builds of kind, kubectl, helm, Pulumi and its Kubernetes provider are used where Go is
there to build them (`make toolchain`), so a machine needs only Docker; without Go, the laptop's
tools are checked instead. On Debian as root with no Docker engine, Debian's docker.io is installed
and started, as for `make images`. The node image is the pinned kindest/node where a registry
serves it, else wharf's build (`make kind-node`).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from wharf_infra.build.docker_engine import DockerUnavailable, ensure_engine, stop_engine
from wharf_infra.build.toolchain import KIND_TOOLS
from wharf_infra.core.paths import CLUSTER_PROGRAM, PLATFORM_PROGRAM
from wharf_infra.core.versions import versions
from wharf_infra.local import handoff, prerequisites, readiness, stacks
from wharf_infra.local.plan import Step
from wharf_infra.local.state import STACK, ClusterState

KIND_NETWORK = "kind"  # the Docker network kind puts its nodes on, and leaves behind
DESTROY_TOOLS = tuple(t for t in prerequisites.TOOLS if t.name in ("docker", "kind", "pulumi"))


class PrerequisiteError(SystemExit):
    def __init__(self, target: str, problems: Sequence[str]) -> None:
        listed = "\n".join(f"  - {p}" for p in problems)
        super().__init__(f"{target} cannot start; fix these first:\n{listed}")


def _build_tools() -> None:
    if shutil.which("go") is None:
        print("   no Go here: the tools on your PATH are checked next", flush=True)
        return
    for tool in KIND_TOOLS:
        print(f"  {tool.name} {tool.version}: {tool.build()}", flush=True)


def _start_docker() -> None:
    """Start (or install and start) the engine where wharf may; what is still wrong, the check names."""
    try:
        ensure_engine()
    except DockerUnavailable as error:
        print(f"   {error}", flush=True)


def _prerequisites(target: str, tools: Sequence[prerequisites.Tool], state: ClusterState) -> Step:
    def check() -> None:
        if found := prerequisites.problems(tools, state.env()["PATH"]):
            raise PrerequisiteError(target, found)

    return Step(f"Check the prerequisites: {prerequisites.summary(tools)}", action=check)


def cluster_steps(state: ClusterState) -> list[Step]:
    """`make cluster`: from nothing (or from a previous run) to a platform you can log in to."""
    kind_name = state.cluster.name
    return [
        Step(
            "Build what is missing of wharf's tools from the Go module proxy, once (where Go is "
            "installed): " + ", ".join(f"{t.name} {t.version}" for t in KIND_TOOLS),
            action=_build_tools,
        ),
        Step(
            "Start the Docker engine if none answers (Debian as root: install docker.io first)",
            action=_start_docker,
        ),
        _prerequisites("make cluster", prerequisites.TOOLS, state),
        Step(
            f"Prepare the local Pulumi backend {state.backend} and its passphrase file "
            f"{state.passphrase} (generated once, mode 0600, outside git)",
            action=state.prepare,
        ),
        Step(
            f"The kind node image (nodeImage: {state.cluster.node_image}): {versions().kind_node_image} "
            "where Docker has it or pulls it, else wharf's build from package registries (make kind-node)",
            (
                sys.executable,
                *("-m", "wharf_infra.build.kind_node"),
                *("--source", state.cluster.node_image, "--registry", state.cluster.image_registry),
            ),
        ),
        *stacks.up_steps(state, CLUSTER_PROGRAM, "the cluster program (the kind cluster)"),
        Step(
            f"Write the kind cluster's kubeconfig to {state.kubeconfig}",
            ("kind", "export", "kubeconfig", "--name", kind_name, "--kubeconfig", str(state.kubeconfig)),
        ),
        Step(
            f"Build every image the platform runs whose content changed ({state.platform.image_registry}/"
            "wharf-*: the services and the code locations) and load them into kind",
            (
                sys.executable,
                *("-m", "wharf_infra.build.images"),
                *("--registry", state.platform.image_registry, "--kind-cluster", kind_name),
            ),
        ),
        *stacks.up_steps(state, PLATFORM_PROGRAM, "the platform program"),
        Step(
            "Wait for every chart release, every pod, the local CA and the gateway, showing progress",
            action=lambda: readiness.wait(state),
        ),
        Step(
            f"Write the smoke target {state.smoke_target}; print the URLs (`pulumi stack output "
            "urls` of the platform) and the login (Secret read with kubectl)",
            action=lambda: handoff.announce(state),
        ),
    ]


def _remove_kind_network() -> None:
    used = subprocess.run(
        ["docker", "network", "inspect", KIND_NETWORK, "--format", "{{len .Containers}}"],
        capture_output=True,
        text=True,
        check=False,
    )
    if used.returncode == 0 and used.stdout.strip() == "0":
        subprocess.run(["docker", "network", "rm", KIND_NETWORK], check=True)


def destroy_steps(state: ClusterState) -> list[Step]:
    """`make destroy`: both stacks, the kind cluster and the local state, gone. Images stay in
    Docker's store as a cache (content-tagged; a build removes the tags it supersedes)."""
    kind_name = state.cluster.name

    def if_stack(program: Path, step: Step) -> Step:
        exists = f"if the `{STACK}` stack exists"
        return replace(step, only_if=lambda: state.stack_exists(program), condition=exists)

    def remove_stack(program: Path, title: str, *flags: str) -> Step:
        return if_stack(program, Step(title, ("pulumi", "stack", "rm", "--yes", *flags, STACK), cwd=program))

    return [
        _prerequisites("make destroy", DESTROY_TOOLS, state),
        stacks.release_locks_step(state),
        if_stack(
            CLUSTER_PROGRAM,
            stacks.pulumi_step(
                state,
                CLUSTER_PROGRAM,
                "pulumi destroy: the cluster program, which deletes the kind cluster (and all it runs)",
                *("destroy", "--yes", "--skip-preview"),
            ),
        ),
        remove_stack(
            PLATFORM_PROGRAM,
            "Remove the platform stack; its resources lived in the cluster just deleted",
            *("--force", "--preserve-config"),
        ),
        remove_stack(CLUSTER_PROGRAM, "Remove the cluster stack", "--preserve-config"),
        Step(
            "Delete the kind cluster if anything is left of it (a no-op otherwise)",
            ("kind", "delete", "cluster", "--name", kind_name),
        ),
        Step(
            f"Remove the `{KIND_NETWORK}` Docker network kind made (only if no container is left on it)",
            action=_remove_kind_network,
        ),
        Step(
            "Stop the Docker engine if `make cluster` started it (its image store stays, as a cache)",
            action=stop_engine,
        ),
        Step(
            f"Remove {state.root} (state, passphrase, stack configs, kubeconfig, CA, smoke target)",
            action=lambda: shutil.rmtree(state.root, ignore_errors=True),
        ),
    ]
