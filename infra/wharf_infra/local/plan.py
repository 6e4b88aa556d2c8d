"""The steps of `make cluster` and `make destroy`, as data: printed by `PLAN=1`, run otherwise.

A step is a command (run with the state's environment: local Pulumi backend, passphrase file,
kubeconfig) or a Python action (checks, waiting, hand-off). Steps that only make sense when a stack
exists say so, and are skipped at run time when it does not: both targets converge when re-run.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from wharf_infra.core.image_tags import image_name
from wharf_infra.core.paths import CLUSTER_PROGRAM, PLATFORM_PROGRAM, REPO_ROOT
from wharf_infra.core.registry import load_registry
from wharf_infra.core.versions import versions
from wharf_infra.local import handoff, prerequisites, readiness
from wharf_infra.local.state import STACK, ClusterState, forget_encryption_salt, stack_file

DESTROY_TOOLS = tuple(t for t in prerequisites.TOOLS if t.name in ("docker", "kind", "pulumi"))


@dataclass(frozen=True)
class Step:
    title: str
    argv: tuple[str, ...] = ()
    cwd: Path = REPO_ROOT
    action: Callable[[], None] | None = None  # a Python step; a step has an action or an argv
    only_if: Callable[[], bool] | None = None
    condition: str = ""  # how the plan describes `only_if`

    def describe(self) -> str:
        lines = [self.title + (f" (only {self.condition})" if self.condition else "")]
        if self.argv:
            where = "" if self.cwd == REPO_ROOT else f"cd {self.cwd.relative_to(REPO_ROOT)} && "
            lines.append(f"$ {where}{shlex.join(self.argv)}")
        return "\n     ".join(lines)

    def run(self, env: dict[str, str]) -> None:
        if self.only_if is not None and not self.only_if():
            print(f"   skipped: not {self.condition}", flush=True)
            return
        if self.action is not None:
            self.action()
        else:
            subprocess.run(self.argv, cwd=self.cwd, env={**os.environ, **env}, check=True)


class PrerequisiteError(SystemExit):
    def __init__(self, target: str, problems: Sequence[str]) -> None:
        listed = "\n".join(f"  - {p}" for p in problems)
        super().__init__(f"{target} cannot start; fix these first:\n{listed}")


def _prerequisites(target: str, tools: Sequence[prerequisites.Tool]) -> Step:
    def check() -> None:
        if found := prerequisites.problems(tools):
            raise PrerequisiteError(target, found)

    return Step(f"Check the prerequisites: {prerequisites.summary(tools)}", action=check)


def _select(program: Path) -> Step:
    return Step(
        f"Select the {program.name} stack `{STACK}`, creating it with the passphrase secrets provider",
        ("pulumi", "stack", "select", "--create", "--secrets-provider", "passphrase", STACK),
        cwd=program,
    )


def _up(program: Path) -> Step:
    return Step(
        f"pulumi up: the {program.name} program on stack `{STACK}`",
        ("pulumi", "up", "--yes", "--skip-preview", "--stack", STACK),
        cwd=program,
    )


def cluster_steps(state: ClusterState) -> list[Step]:
    """`make cluster`: from nothing (or from a previous run) to a platform you can log in to."""
    kind_name = state.cluster.name
    return [
        _prerequisites("make cluster", prerequisites.TOOLS),
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
        _select(CLUSTER_PROGRAM),
        _up(CLUSTER_PROGRAM),
        Step(
            f"Write the kind cluster's kubeconfig to {state.kubeconfig}",
            ("kind", "export", "kubeconfig", "--name", kind_name, "--kubeconfig", str(state.kubeconfig)),
        ),
        Step(
            f"Build every image the platform runs whose content changed ({state.platform.image_registry}/"
            "wharf-*: the services and the code locations) and load them into kind",
            (
                sys.executable,
                "-m",
                "wharf_infra.build.images",
                "--registry",
                state.platform.image_registry,
                "--kind-cluster",
                kind_name,
            ),
        ),
        _select(PLATFORM_PROGRAM),
        _up(PLATFORM_PROGRAM),
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


def _remove_images(registry: str) -> None:
    for location in load_registry():
        listed = subprocess.run(
            ["docker", "image", "ls", "--quiet", image_name(registry, location)],
            capture_output=True,
            text=True,
            check=True,
        )
        if ids := sorted(set(listed.stdout.split())):
            subprocess.run(["docker", "image", "rm", "--force", *ids], check=True)


def _forget_local_state(state: ClusterState) -> None:
    for program in (CLUSTER_PROGRAM, PLATFORM_PROGRAM):
        forget_encryption_salt(stack_file(program))
    shutil.rmtree(state.root, ignore_errors=True)


def destroy_steps(state: ClusterState) -> list[Step]:
    """`make destroy`: both stacks, the kind cluster, the images and the local state, gone."""
    kind_name = state.cluster.name
    registry = state.platform.image_registry

    def if_stack(title: str, argv: tuple[str, ...], program: Path) -> Step:
        return Step(
            title,
            argv,
            cwd=program,
            only_if=lambda: state.stack_exists(program),
            condition=f"if the `{STACK}` stack exists",
        )

    return [
        _prerequisites("make destroy", DESTROY_TOOLS),
        if_stack(
            "pulumi destroy: the cluster program, which deletes the kind cluster (and all it runs)",
            ("pulumi", "destroy", "--yes", "--skip-preview", "--stack", STACK),
            CLUSTER_PROGRAM,
        ),
        if_stack(
            "Remove the platform stack; its resources lived in the cluster just deleted",
            ("pulumi", "stack", "rm", "--yes", "--force", "--preserve-config", STACK),
            PLATFORM_PROGRAM,
        ),
        if_stack(
            "Remove the cluster stack",
            ("pulumi", "stack", "rm", "--yes", "--preserve-config", STACK),
            CLUSTER_PROGRAM,
        ),
        Step(
            "Delete the kind cluster if anything is left of it (a no-op otherwise)",
            ("kind", "delete", "cluster", "--name", kind_name),
        ),
        Step(f"Remove the code-location images {registry}/wharf-*", action=lambda: _remove_images(registry)),
        Step(
            f"Remove {state.root} (state, passphrase, kubeconfig, CA, smoke target) and the "
            "encryption salts Pulumi wrote into the Pulumi.local.yaml files",
            action=lambda: _forget_local_state(state),
        ),
    ]


def describe(steps: Sequence[Step], state: ClusterState) -> str:
    env = " ".join(f"{k}={shlex.quote(v)}" for k, v in state.env().items())
    body = "\n".join(f"  {n:>2}. {step.describe()}" for n, step in enumerate(steps, 1))
    return f"{body}\n  Every command runs with: {env}"


def run(steps: Sequence[Step], state: ClusterState) -> None:
    for n, step in enumerate(steps, 1):
        print(f"[{n}/{len(steps)}] {step.title}", flush=True)
        step.run(state.env())
