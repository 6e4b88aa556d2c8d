"""The steps of `make cluster TARGET=kwok` and `make destroy TARGET=kwok`.

The kwok target differs from kind only below the platform: instead of `pulumi up` of the cluster
program (kind in Docker) it builds the control plane from Go modules and starts it on loopback. The
platform program, its `local` stack config and the readiness code are the ones kind uses; the
config is rewritten for this target (no cluster stack: the provider reads $KUBECONFIG; the charts
from a copy of `$WHARF_UPSTREAM_DIR/charts` whose values schemas resolve their Kubernetes references
offline, as the chart repositories and schema URLs may be out of reach).
"""

from __future__ import annotations

from dataclasses import replace

from wharf_infra.build.toolchain import KWOK_TOOLS
from wharf_infra.core.paths import PLATFORM_PROGRAM
from wharf_infra.local import handoff, readiness, stacks
from wharf_infra.local.kwok.control_plane import ControlPlane
from wharf_infra.local.plan import Step
from wharf_infra.local.state import STACK, ClusterState


def _build_toolchain() -> None:
    for tool in KWOK_TOOLS:
        print(f"  {tool.name} {tool.version}: {tool.build()}", flush=True)


def cluster_steps(state: ClusterState) -> list[Step]:
    plane = ControlPlane(state.root)
    return [
        Step(
            "Build what is missing of the toolchain from the Go module proxy, once, into "
            "~/.cache/wharf/toolchain: " + ", ".join(f"{t.name} {t.version}" for t in KWOK_TOOLS),
            action=_build_toolchain,
        ),
        Step(
            "Start the control plane on loopback (etcd, kube-apiserver, kube-controller-manager, "
            f"kube-scheduler, kwok with two simulated nodes); kubeconfig {state.kubeconfig}",
            action=plane.up,
        ),
        Step(
            f"Prepare the local Pulumi backend {state.backend} and its passphrase file {state.passphrase}",
            action=state.prepare,
        ),
        *stacks.up_steps(state, PLATFORM_PROGRAM, "the platform program"),
        Step(
            "Wait for every chart release, Deployment and StatefulSet, and check every custom resource "
            "was stored (kwok simulates containers: Ready means scheduled and admitted, not running)",
            action=lambda: readiness.wait_simulated(state),
        ),
        Step(
            f"Write the smoke target {state.smoke_target}: `make smoke` then runs its Kubernetes checks "
            "here and the data path on the native stack (kwok runs no containers)",
            action=lambda: handoff.write_smoke_target(state, handoff.simulated_smoke_target(state)),
        ),
    ]


def destroy_steps(state: ClusterState) -> list[Step]:
    plane = ControlPlane(state.root)

    def if_stack(step: Step) -> Step:
        return replace(
            step,
            only_if=lambda: (
                plane.running()["kube-apiserver"] is not None and state.stack_exists(PLATFORM_PROGRAM)
            ),
            condition=f"if the control plane runs and the `{STACK}` stack exists",
        )

    return [
        stacks.release_locks_step(state),
        if_stack(
            stacks.pulumi_step(
                state,
                PLATFORM_PROGRAM,
                "pulumi destroy: every platform resource",
                *("destroy", "--yes", "--skip-preview"),
            )
        ),
        Step(
            "Stop the control plane and delete its store, certificates and state",
            action=lambda: plane.down(wipe=True),
        ),
    ]
